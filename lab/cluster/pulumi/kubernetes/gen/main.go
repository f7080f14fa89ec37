// gen writes the provider's embedded files, as the provider's own generate.go does: the module's
// committed schema.json with its version set (schema-embed.json) and terraform-mapping.json
// re-serialized (terraform-mapping-embed.json).
//
//	go run ./gen -version 4.34.2 -out DIR
package main

import (
	"encoding/json"
	"flag"
	"log"
	"os"
	"os/exec"
	"path/filepath"
	"strings"

	"github.com/pulumi/pulumi/pkg/v3/codegen/schema"
)

const providerModule = "github.com/pulumi/pulumi-kubernetes/provider/v4"

func main() {
	version := flag.String("version", "", "the version the schema (and the plugin) report")
	out := flag.String("out", ".", "the directory to write schema-embed.json and terraform-mapping-embed.json into")
	flag.Parse()
	if *version == "" {
		log.Fatal("-version is required")
	}

	dirOut, err := exec.Command("go", "list", "-m", "-f", "{{.Dir}}", providerModule).Output()
	if err != nil {
		log.Fatalf("go list -m %s: %v", providerModule, err)
	}
	src := filepath.Join(strings.TrimSpace(string(dirOut)), "cmd", "pulumi-resource-kubernetes")

	schemaContents, err := os.ReadFile(filepath.Join(src, "schema.json"))
	if err != nil {
		log.Fatal(err)
	}
	var packageSpec schema.PackageSpec
	if err := json.Unmarshal(schemaContents, &packageSpec); err != nil {
		log.Fatalf("cannot deserialize schema: %v", err)
	}
	packageSpec.Version = *version
	versionedContents, err := json.Marshal(packageSpec)
	if err != nil {
		log.Fatalf("cannot reserialize schema: %v", err)
	}
	if err := os.WriteFile(filepath.Join(*out, "schema-embed.json"), versionedContents, 0o600); err != nil {
		log.Fatal(err)
	}

	terraformContents, err := os.ReadFile(filepath.Join(src, "terraform-mapping.json"))
	if err != nil {
		log.Fatal(err)
	}
	var mapping interface{}
	if err := json.Unmarshal(terraformContents, &mapping); err != nil {
		log.Fatalf("cannot deserialize terraform mapping: %v", err)
	}
	embeddedMapping, err := json.Marshal(mapping)
	if err != nil {
		log.Fatalf("cannot reserialize terraform mapping: %v", err)
	}
	if err := os.WriteFile(filepath.Join(*out, "terraform-mapping-embed.json"), embeddedMapping, 0o600); err != nil {
		log.Fatal(err)
	}
}
