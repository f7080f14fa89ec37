// pulumi-resource-kubernetes: the Kubernetes provider plugin, served from the provider module
// with the schema and terraform mapping that gen writes beside this file before the build
// (they are not committed: lab/cluster/toolchain.ts builds from a copy of this directory).
package main

import (
	_ "embed"

	"github.com/pulumi/pulumi-kubernetes/provider/v4/pkg/provider"
	"github.com/pulumi/pulumi-kubernetes/provider/v4/pkg/version"
)

//go:embed schema-embed.json
var pulumiSchema []byte

//go:embed terraform-mapping-embed.json
var terraformMapping []byte

func main() {
	provider.Serve("kubernetes", version.Version, pulumiSchema, terraformMapping)
}
