// Command dotnetgen writes the .NET SDK of a Pulumi package schema with Pulumi's own .NET code
// generator (github.com/pulumi/pulumi/pkg/v3/codegen/dotnet, the last releases that carry it), as
// `pulumi package gen-sdk --language dotnet` does through the .NET language host, which the Go
// module proxy does not serve.
//
//	dotnetgen -schema schema.json -out sdk/dotnet
package main

import (
	"encoding/json"
	"flag"
	"fmt"
	"image"
	"image/png"
	"net/http"
	"os"
	"path/filepath"

	"github.com/pulumi/pulumi/pkg/v3/codegen/dotnet"
	"github.com/pulumi/pulumi/pkg/v3/codegen/schema"
)

func main() {
	schemaPath := flag.String("schema", "", "the package schema (JSON), as `pulumi package get-schema` prints it")
	out := flag.String("out", "", "the folder to write the SDK into")
	flag.Parse()
	if err := run(*schemaPath, *out); err != nil {
		fmt.Fprintln(os.Stderr, "dotnetgen:", err)
		os.Exit(1)
	}
}

func run(schemaPath, out string) error {
	if schemaPath == "" || out == "" {
		return fmt.Errorf("-schema and -out are required")
	}
	raw, err := os.ReadFile(schemaPath)
	if err != nil {
		return err
	}
	var spec schema.PackageSpec
	if err := json.Unmarshal(raw, &spec); err != nil {
		return fmt.Errorf("%s: %w", schemaPath, err)
	}
	pkg, err := schema.ImportSpec(spec, map[string]schema.Language{"csharp": dotnet.Importer}, schema.ValidationOptions{})
	if err != nil {
		return fmt.Errorf("%s: %w", schemaPath, err)
	}
	// The generator fetches the package's logo by URL, Pulumi's own from GitHub when the schema names
	// none. Offline, a schema without one gets a plain 64x64 icon, read through file://.
	if pkg.LogoURL == "" {
		icon, err := plainIcon()
		if err != nil {
			return err
		}
		defer os.Remove(icon)
		pkg.LogoURL = "file://" + icon
	}
	files, err := dotnet.GeneratePackage("pulumi", pkg, nil, nil)
	if err != nil {
		return err
	}
	for name, content := range files {
		p := filepath.Join(out, name)
		if err := os.MkdirAll(filepath.Dir(p), 0o755); err != nil {
			return err
		}
		if err := os.WriteFile(p, content, 0o644); err != nil {
			return err
		}
	}
	return nil
}

// plainIcon writes a transparent 64x64 PNG to a temporary file and lets http.Get read file:// URLs.
func plainIcon() (string, error) {
	f, err := os.CreateTemp("", "dotnetgen-icon-*.png")
	if err != nil {
		return "", err
	}
	defer f.Close()
	if err := png.Encode(f, image.NewNRGBA(image.Rect(0, 0, 64, 64))); err != nil {
		return "", err
	}
	http.DefaultTransport.(*http.Transport).RegisterProtocol("file", http.NewFileTransport(http.Dir("/")))
	return f.Name(), nil
}
