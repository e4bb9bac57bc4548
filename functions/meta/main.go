// Command meta is the Lambda function serving batchplane's meta routes (the
// routes whose Function is routes.FnMeta in shared/routes).
package main

import (
	"github.com/batchplane/batchplane/shared/api"
	"github.com/batchplane/batchplane/shared/app"
)

func main() { app.HTTP(api.Meta()) }
