package schedules

// The IANA time zone database, embedded: Lambda's provided.al2023 runtime
// has no /usr/share/zoneinfo (aws/aws-lambda-dotnet#1620), and without it
// time.LoadLocation would refuse every zone, so every config with a
// timezone would be answered 400. It costs a binary that links this
// package about 390 KB (97 KB zipped); docs/schedules.md has the measure.
import _ "time/tzdata"
