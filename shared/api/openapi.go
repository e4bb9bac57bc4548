package api

import (
	"encoding/json"
	"fmt"
	"net/http"
	"strings"
	"sync"

	"github.com/batchplane/batchplane/shared/routes"
)

// The OpenAPI 3.1 description of every deployed route is built from the
// route table and the schemas below, so a route cannot ship undescribed:
// TestOpenAPIDescribesEveryRoute fails if one lacks a response schema, and
// the handler tests validate every response against it.

type obj = map[string]any

func ref(name string) obj { return obj{"$ref": "#/components/schemas/" + name} }

func str() obj              { return obj{"type": "string"} }
func strOrNull() obj        { return obj{"type": []string{"string", "null"}} }
func num() obj              { return obj{"type": "number"} }
func integer() obj          { return obj{"type": "integer"} }
func boolean() obj          { return obj{"type": "boolean"} }
func arrayOf(items obj) obj { return obj{"type": "array", "items": items} }
func nullable(o obj) obj    { return obj{"anyOf": []any{o, obj{"type": "null"}}} }
func object(props obj, required ...string) obj {
	if required == nil {
		required = []string{}
	}
	return obj{"type": "object", "properties": props, "required": required, "additionalProperties": false}
}

// strict makes every property required (response shapes are fixed).
func strict(props obj) obj {
	var req []string
	for k := range props {
		req = append(req, k)
	}
	return object(props, req...)
}

var noErrorsSchema = obj{"type": "object", "maxProperties": 0}

func dataEnvelope(data obj) obj {
	return strict(obj{"RequestId": str(), "Data": data, "Errors": noErrorsSchema, "ContinuationToken": strOrNull()})
}

func namedEnvelope(name string, v obj, list bool) obj {
	p := obj{name: v, "RequestId": str(), "Errors": noErrorsSchema}
	if list {
		p["ContinuationToken"] = strOrNull()
	}
	return strict(p)
}

// respSchema is a route's success status and body schema.
type respSchema struct {
	Status int
	Schema obj
}

// schemaSet is every schema of the document: responses and request bodies
// by route name, and the shared components.
type schemaSet struct {
	responses  map[string]respSchema
	requests   map[string]obj
	components obj
}

// schemas are built on first use (the document, the tests), not at every
// Lambda cold start.
var schemas = sync.OnceValue(func() schemaSet {
	s := schemaSet{responses: baseResponseSchemas(), requests: baseRequestSchemas(), components: baseComponentSchemas()}
	addAppSchemas(s)
	return s
})

// baseResponseSchemas maps a route name to its success status and body schema.
func baseResponseSchemas() map[string]respSchema {
	return map[string]respSchema{
		"health":  {200, dataEnvelope(strict(obj{"Status": str()}))},
		"openapi": {200, obj{"type": "object", "required": []string{"openapi", "paths"}}},

		"accounts.list":   {200, dataEnvelope(arrayOf(ref("Account")))},
		"accounts.get":    {200, dataEnvelope(ref("Account"))},
		"accounts.add":    {201, dataEnvelope(ref("Account"))},
		"accounts.update": {200, dataEnvelope(ref("Account"))},
		"accounts.delete": {200, dataEnvelope(boolean())},

		"users.list":   {200, dataEnvelope(arrayOf(ref("User")))},
		"users.get":    {200, dataEnvelope(ref("User"))},
		"users.add":    {201, dataEnvelope(boolean())},
		"users.update": {200, dataEnvelope(boolean())},
		"users.teams":  {200, namedEnvelope("Teams", arrayOf(ref("Team")), true)},

		"teams.list":     {200, namedEnvelope("Teams", arrayOf(ref("Team")), true)},
		"teams.get":      {200, namedEnvelope("Team", ref("Team"), false)},
		"teams.add":      {201, namedEnvelope("Success", boolean(), false)},
		"teams.update":   {200, namedEnvelope("Success", boolean(), false)},
		"teams.delete":   {200, namedEnvelope("Success", boolean(), false)},
		"teams.users":    {200, namedEnvelope("Users", arrayOf(ref("TeamMember")), true)},
		"teams.addUsers": {200, namedEnvelope("Success", boolean(), false)},

		"regions.list": {200, dataEnvelope(arrayOf(ref("Region")))},

		"keys.list":   {200, dataEnvelope(arrayOf(ref("Key")))},
		"keys.add":    {201, dataEnvelope(ref("NewKey"))},
		"keys.revoke": {200, dataEnvelope(boolean())},

		"asg.execute":    {202, namedEnvelope("RunRequestId", str(), false)},
		"ami.execute":    {202, namedEnvelope("RunRequestId", str(), false)},
		"runs.check":     {200, dataEnvelope(str())},
		"runs.stop":      {200, dataEnvelope(boolean())},
		"runs.list":      {200, dataEnvelope(arrayOf(ref("Run")))},
		"runs.get":       {200, dataEnvelope(ref("Run"))},
		"runs.delete":    {200, dataEnvelope(boolean())},
		"runs.summary":   {200, namedEnvelope("RunSummary", ref("RunSummary"), false)},
		"runs.instances": {200, dataEnvelope(arrayOf(ref("Instance")))},
		"runs.logs":      {200, namedEnvelope("Logs", arrayOf(ref("LogLine")), true)},
		"runs.rightsize": {200, namedEnvelope("Recommendation", ref("Recommendation"), false)},
	}
}

// baseRequestSchemas maps a route name to its JSON body schema.
func baseRequestSchemas() map[string]obj {
	return map[string]obj{
		"accounts.add":    object(obj{"Name": str(), "BaseRegion": str(), "RoleArn": str(), "Teams": arrayOf(str())}, "Name", "BaseRegion", "RoleArn"),
		"accounts.update": object(obj{"Name": str(), "BaseRegion": str(), "RoleArn": str(), "Teams": arrayOf(str())}),
		"users.add":       object(obj{"UserName": str(), "FullName": str(), "Role": obj{"enum": []string{"Administrator", "User"}}}, "UserName", "FullName", "Role"),
		"users.update":    object(obj{"UserName": str(), "FullName": str(), "Role": obj{"enum": []string{"Administrator", "User"}}, "Id": integer()}),
		"teams.add":       object(obj{"Name": str(), "Description": strOrNull()}, "Name"),
		"teams.update":    object(obj{"Name": str(), "Description": strOrNull(), "Id": str()}),
		"teams.addUsers":  object(obj{"UserName": str(), "UserNames": arrayOf(str())}),
		"keys.add":        object(obj{"UserId": integer()}),
	}
}

func baseComponentSchemas() obj {
	return obj{
		"Error": strict(obj{"RequestId": str(), "Data": obj{"type": "null"},
			"Errors": obj{"type": "object", "minProperties": 1, "additionalProperties": str()}, "ContinuationToken": obj{"type": "null"}}),
		"Account": strict(obj{"ActiveProcessorCount": num(), "Platform": str(), "PlatformName": str(), "BaseRegion": str(),
			"MaxRIPercentageToUse": num(), "RoleArn": str(), "Teams": arrayOf(str()), "Id": obj{"type": "string", "pattern": "^A-[0-9A-F]{8}$"},
			"Name": str(), "ExternalId": str()}),
		"User":       strict(obj{"UserName": str(), "FullName": str(), "Role": str(), "Id": integer()}),
		"Team":       strict(obj{"Id": obj{"type": "string", "pattern": "^Z-[0-9A-F]{8}$"}, "IsDefault": boolean(), "Description": strOrNull(), "Name": str()}),
		"TeamMember": strict(obj{"UserName": str(), "Email": str(), "DisplayName": str()}),
		"Region":     strict(obj{"Id": str(), "Name": str()}),
		"Key":        strict(obj{"AccessKey": str(), "UserId": integer(), "Status": str(), "CreatedAt": str(), "RevokedAt": strOrNull()}),
		"NewKey":     strict(obj{"AccessKey": str(), "SecretKey": str(), "UserId": integer(), "Status": str(), "CreatedAt": str()}),
		"Run": strict(obj{"Id": str(), "RunRequestId": str(), "JobId": str(), "JobName": str(), "AppName": str(), "AccountId": str(),
			"Region": str(), "Status": str(), "RunDate": strOrNull(), "EndDate": strOrNull(), "InstanceType": str(),
			"Desired": integer(), "MinOnDemand": integer(), "FailureReason": strOrNull()}),
		"RunSummary": strict(obj{"AppName": str(), "JobName": str(), "JobId": str(), "Status": str(), "RunDate": strOrNull(),
			"EndDate": strOrNull(), "ActualCost": num(), "ActualSavings": num(), "EstimatedCost": num(), "EstimatedSavings": num(),
			"SavingsPercentage": num(), "SpotHours": num(), "OnDemandHours": num(), "IsPrivateApp": boolean()}),
		"Instance": strict(obj{"ELBHealthCheck": arrayOf(strict(obj{"Name": str(), "HealthCheckStatus": str(), "HealthCheckDescription": str()})),
			"IsHealthy": boolean(), "ELBHealthCheckDetailsAsString": strOrNull(), "InstanceId": str(), "InstanceType": str(),
			"SubnetId": str(), "AvailabilityZone": str(), "LifeCycle": obj{"enum": []any{"spot", nil}}, "Status": str(),
			"LaunchTime": strOrNull(), "PrivateIpAddress": str(), "Name": strOrNull(), "StopTime": strOrNull(), "Distribution": str()}),
		"LogLine": strict(obj{"Message": str(), "Time": strOrNull(), "Severity": obj{"enum": []string{"Info", "Warning", "Error"}}}),
		"Recommendation": strict(obj{"Recommendations": strOrNull(), "CurrentInstances": strOrNull(), "AverageCPUUtilization": num(),
			"Message": str(), "Available": boolean()}),
	}
}

// BuildOpenAPI returns the OpenAPI 3.1 document for routes.
func BuildOpenAPI(table []routes.Route) ([]byte, error) {
	set := schemas()
	paths := obj{}
	for _, r := range table {
		resp, ok := set.responses[r.Name]
		if !ok {
			return nil, fmt.Errorf("openapi: route %s (%s %s) has no response schema", r.Name, r.Method, r.Path)
		}
		for _, p := range r.Paths() {
			item, _ := paths[p].(obj)
			if item == nil {
				item = obj{}
				paths[p] = item
			}
			op := obj{
				"operationId": r.Name + suffix(p, r.Path),
				"tags":        []string{r.Function},
				"responses": obj{
					fmt.Sprint(resp.Status): obj{"description": http.StatusText(resp.Status),
						"content": obj{"application/json": obj{"schema": resp.Schema}}},
					"default": obj{"description": "Error (4xx, 5xx)",
						"content": obj{"application/json": obj{"schema": ref("Error")}}},
				},
			}
			var params []any
			for _, seg := range strings.Split(p, "/") {
				if strings.HasPrefix(seg, "{") {
					params = append(params, obj{"name": strings.Trim(seg, "{}"), "in": "path", "required": true, "schema": str()})
				}
			}
			if params != nil {
				op["parameters"] = params
			}
			if r.Public {
				op["security"] = []any{}
			}
			if req, ok := set.requests[r.Name]; ok {
				op["requestBody"] = obj{"required": r.Method != "DELETE", "content": obj{"application/json": obj{"schema": req}}}
			}
			item[strings.ToLower(r.Method)] = op
		}
	}
	doc := obj{
		"openapi": "3.1.0",
		"info": obj{"title": "batchplane", "version": "1.0.0",
			"description": "cmpute.io and Batchly API (seeds 000, 001) served by batchplane; see docs/api.md for the choices where the seeds are silent."},
		"paths": paths,
		"components": obj{
			"schemas": set.components,
			"securitySchemes": obj{
				"ApiKey": obj{"type": "apiKey", "in": "header", "name": "Authorization", "description": "ApiKey AccessKey:SecretKey"},
				"SigV4":  obj{"type": "apiKey", "in": "header", "name": "Authorization", "description": "AWS Signature Version 4, service execute-api"},
			},
		},
		"security": []any{obj{"ApiKey": []string{}}, obj{"SigV4": []string{}}},
	}
	return json.MarshalIndent(doc, "", "  ")
}

func suffix(p, canonical string) string {
	if p == canonical {
		return ""
	}
	return "." + strings.NewReplacer("/", "_", "{", "", "}", "").Replace(strings.Trim(p, "/"))
}

// ResponseSchema returns the success status and schema of a route (for tests).
func ResponseSchema(route string) (int, bool) {
	s, ok := schemas().responses[route]
	return s.Status, ok
}

// RouteOf returns the name of the route that serves r, if any.
func (s *Server) RouteOf(r *http.Request) (string, bool) {
	c, _, _ := s.router.match(r.Method, r.URL.EscapedPath())
	if c == nil {
		return "", false
	}
	return c.Name, true
}

// OpenAPIDocument returns the served OpenAPI document.
func (s *Server) OpenAPIDocument() []byte {
	doc, _ := openAPIDocument()
	return doc
}
