package scheduler_test

import "github.com/heraldhq/herald/internal/page"

var pageAll = page.Request{Limit: page.MaxSize}
