package api

// addAppSchemas adds the response schemas of the jobs, projects and apps routes.
func addAppSchemas(set schemaSet) {
	jobSummary := strict(obj{"Runs": num(), "IsScheduled": boolean(), "IsExecuting": boolean(), "Engine": str(),
		"AppName": str(), "IsPrivateApp": boolean(), "Id": obj{"type": "string", "pattern": "^W-[0-9A-F]{8}$"}, "Name": str()})
	project := strict(obj{"Id": obj{"type": "string", "pattern": "^P-[0-9A-F]{8}$"}, "Name": str(), "AccountId": str(),
		"Region": str(), "VpcId": strOrNull(), "CreatedAt": str()})
	jobDetail := obj{"type": "object", "required": []string{"AccountId", "Name", "BaseRegion"}}
	deleted := namedEnvelope("IsDeleted", boolean(), false)
	group := obj{"type": "object", "required": []string{"AutoScalingGroup", "LaunchConfiguration", "LoadBalancers", "TargetGroupARNsDetail", "Queues", "Triggers"}}
	set.components["JobSummary"] = jobSummary
	set.components["Project"] = project
	for name, s := range map[string]struct {
		status int
		schema obj
	}{
		"projects.list":   {200, dataEnvelope(arrayOf(ref("Project")))},
		"projects.get":    {200, dataEnvelope(ref("Project"))},
		"projects.add":    {201, dataEnvelope(ref("Project"))},
		"projects.update": {200, dataEnvelope(ref("Project"))},
		"projects.delete": {200, dataEnvelope(boolean())},
		"jobs.list":       {200, dataEnvelope(arrayOf(ref("JobSummary")))},
		"asg.groups":      {200, dataEnvelope(arrayOf(ref("Region")))},
		"asg.group":       {200, dataEnvelope(group)},
		"asg.get":         {200, namedEnvelope("Job", jobDetail, false)},
		"asg.add":         {201, namedEnvelope("Job", ref("JobSummary"), false)},
		"asg.update":      {200, namedEnvelope("Job", ref("JobSummary"), false)},
		"asg.delete":      {200, deleted},
		"ami.get":         {200, namedEnvelope("Job", jobDetail, false)},
		"ami.add":         {201, namedEnvelope("Job", ref("JobSummary"), false)},
		"ami.update":      {200, namedEnvelope("Job", ref("JobSummary"), false)},
		"ami.delete":      {200, deleted},
	} {
		if _, ok := set.responses[name]; !ok {
			set.responses[name] = respSchema{s.status, s.schema}
		}
	}
}
