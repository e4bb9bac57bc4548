// Command users is the Lambda function serving batchplane's users routes (the
// routes whose Function is routes.FnUsers in shared/routes).
package main

import (
	"github.com/batchplane/batchplane/shared/api"
	"github.com/batchplane/batchplane/shared/app"
)

func main() { app.HTTP(api.Users()) }
