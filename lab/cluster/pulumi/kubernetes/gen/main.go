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

	// The module at the version go.mod requires, downloaded if the module cache lacks it (gen itself
	// does not import the provider, so building gen does not bring it in).
	downloaded, err := exec.Command("go", "mod", "download", "-json", providerModule).Output()
	if err != nil {
		log.Fatalf("go mod download %s: %v", providerModule, err)
	}
	var module struct{ Dir, Error string }
	if err := json.Unmarshal(downloaded, &module); err != nil || module.Dir == "" {
		log.Fatalf("go mod download %s: no directory (%v %s)", providerModule, err, module.Error)
	}
	src := filepath.Join(module.Dir, "cmd", "pulumi-resource-kubernetes")

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
