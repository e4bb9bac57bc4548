// Command meta is the Lambda function serving batchplane's meta routes (the
// routes whose Function is routes.FnMeta in shared/routes).
package main

import (
	"github.com/batchplane/batchplane/shared/app"
	"github.com/batchplane/batchplane/shared/routes"
)

func main() { app.HTTP(routes.FnMeta) }
