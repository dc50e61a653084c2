// Command kstatus prints what sigs.k8s.io/cli-utils' kstatus (the library Flux and
// kpt read health with) computes for each object it reads on stdin: YAML documents
// separated by ---, a JSON object, a JSON array, or a List (items).
//
//	kstatus < objects.yaml
//
// One JSON line per object, in input order:
//
//	{"kind":"Organization","namespace":"","name":"acme","status":"Current","message":"Resource is current"}
//
// cli-utils ships the library but no CLI for it; this is that CLI and no more.
package main

import (
	"bufio"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"os"
	"strings"

	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	utiljson "k8s.io/apimachinery/pkg/util/json"
	utilyaml "k8s.io/apimachinery/pkg/util/yaml"
	"sigs.k8s.io/cli-utils/pkg/kstatus/status"
)

type result struct {
	Kind       string             `json:"kind"`
	Namespace  string             `json:"namespace"`
	Name       string             `json:"name"`
	Status     string             `json:"status"`
	Message    string             `json:"message"`
	Conditions []status.Condition `json:"conditions,omitempty"`
}

func main() {
	if len(os.Args) > 1 {
		fmt.Fprintln(os.Stderr, "usage: kstatus < objects (YAML or JSON)")
		os.Exit(2)
	}
	out := json.NewEncoder(os.Stdout)
	decoder := utilyaml.NewYAMLOrJSONDecoder(bufio.NewReader(os.Stdin), 4096)
	count := 0
	for {
		var raw json.RawMessage
		if err := decoder.Decode(&raw); err != nil {
			if errors.Is(err, io.EOF) {
				break
			}
			fail("reading stdin: %v", err)
		}
		// apimachinery's json keeps integers int64, as unstructured accessors expect.
		var doc any
		if err := utiljson.Unmarshal(raw, &doc); err != nil {
			fail("reading stdin: %v", err)
		}
		for _, obj := range objects(doc) {
			u := &unstructured.Unstructured{Object: obj}
			r, err := status.Compute(u)
			if err != nil {
				fail("%s %s/%s: %v", u.GetKind(), u.GetNamespace(), u.GetName(), err)
			}
			if err := out.Encode(result{u.GetKind(), u.GetNamespace(), u.GetName(), r.Status.String(), r.Message, r.Conditions}); err != nil {
				fail("writing stdout: %v", err)
			}
			count++
		}
	}
	if count == 0 {
		fail("no object on stdin")
	}
}

// objects flattens a document into its objects: a JSON array's elements, a List's items.
func objects(doc any) []map[string]any {
	switch v := doc.(type) {
	case nil:
		return nil
	case []any:
		var all []map[string]any
		for _, item := range v {
			all = append(all, objects(item)...)
		}
		return all
	case map[string]any:
		if items, ok := v["items"].([]any); ok {
			if _, hasKind := v["kind"]; !hasKind || isList(v) {
				return objects(items)
			}
		}
		if _, ok := v["kind"].(string); !ok {
			fail("an object without a kind: %v", v)
		}
		return []map[string]any{v}
	default:
		fail("not an object: %v", v)
		return nil
	}
}

func isList(v map[string]any) bool {
	kind, _ := v["kind"].(string)
	return strings.HasSuffix(kind, "List")
}

func fail(format string, args ...any) {
	fmt.Fprintf(os.Stderr, "kstatus: "+format+"\n", args...)
	os.Exit(1)
}
