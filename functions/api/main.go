// Command api is the Lambda function behind API Gateway's $default route:
// it serves every route, so a path literal in a casing the seeds never wrote
// answers in AWS as it does locally, where literals match case-insensitively.
package main

import (
	"github.com/batchplane/batchplane/shared/app/cloudapp"
	"github.com/batchplane/batchplane/shared/routes"
)

func main() { cloudapp.StartLambda(routes.DefaultFunction) }
