// Command kragle is the Lambda function serving Kragle.io's routes (the
// routes whose Function is routes.FnKragle in shared/routes: /schedules
// and /jobs).
package main

import (
	"github.com/batchplane/batchplane/shared/api"
	"github.com/batchplane/batchplane/shared/app"
)

func main() { app.HTTP(api.Kragle()) }
