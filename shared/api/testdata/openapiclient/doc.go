// Package openapiclient is where TestOpenAPILint (shared/api) writes the
// client oapi-codegen generates from the served document, in a copy of this
// module, and builds it. The blank import keeps the client's runtime in
// go.mod.
package openapiclient

import _ "github.com/oapi-codegen/runtime"
