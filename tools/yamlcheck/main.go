// yamlcheck reads stack files with Pulumi's own loader
// (sdk/v3/go/common/workspace, the code the pulumi CLI runs) and prints,
// for each, the config it read as one JSON line. The differential test
// (test/program/yaml-differential.test.ts) compares this with the project's
// reader (stack/stackFile.ts).
//
//	yamlcheck --project Pulumi.yaml < list-of-stack-file-paths
//
// Output, one line per input path:
//
//	{"file": ..., "ok": true, "config": {"ns:key": {"secure": b, "object": b, "text": s, "value": v}}, "top": {...}}
//	{"file": ..., "ok": false, "error": "..."}
//
// "text" is the string the program receives (secure values stay encrypted:
// no decrypter is used); "value" is the structured value.
//
// With --dirs, each input line is a project folder and the output says which
// files Pulumi's loader reads there (the differential
// test/program/project-files-differential.test.ts compares it with
// stack/projectFiles.ts):
//
//	yamlcheck --dirs --stacks prod,staging < list-of-folders
//	{"dir": ..., "ok": true, "project": "Pulumi.json", "main": ..., "runtime": ..., "options": {...}, "stackConfigDir": ..., "stacks": {"prod": "Pulumi.prod.json"}}
//
// The project file is found with workspace.DetectProjectPathFrom (the
// search the CLI runs from its working folder) and each stack file's name
// with workspace.DetectProjectStackPath, run in that folder; a stack file
// that does not exist is left out of "stacks".
package main

import (
	"bufio"
	"encoding/json"
	"flag"
	"fmt"
	"os"
	"path/filepath"
	"strings"

	"github.com/pulumi/pulumi/sdk/v3/go/common/resource/config"
	"github.com/pulumi/pulumi/sdk/v3/go/common/tokens"
	"github.com/pulumi/pulumi/sdk/v3/go/common/workspace"
)

type value struct {
	Secure bool   `json:"secure"`
	Object bool   `json:"object"`
	Text   string `json:"text"`
	Value  any    `json:"value"`
}

type result struct {
	File   string           `json:"file"`
	OK     bool             `json:"ok"`
	Error  string           `json:"error,omitempty"`
	Config map[string]value `json:"config,omitempty"`
	Top    map[string]any   `json:"top,omitempty"`
}

func load(project *workspace.Project, path string) (r result) {
	r.File = path
	defer func() {
		// A loader that panics on some input is a disagreement too: report it.
		if p := recover(); p != nil {
			r = result{File: path, Error: fmt.Sprintf("panic: %v", p)}
		}
	}()
	ps, err := workspace.LoadProjectStack(nil, project, path)
	if err != nil {
		r.Error = err.Error()
		return r
	}
	r.Config = map[string]value{}
	for k, v := range ps.Config {
		text, err := v.Value(config.NopDecrypter)
		if err != nil {
			return result{File: path, Error: fmt.Sprintf("%s: %v", k.String(), err)}
		}
		obj, err := v.ToObject()
		if err != nil {
			return result{File: path, Error: fmt.Sprintf("%s: %v", k.String(), err)}
		}
		r.Config[k.String()] = value{Secure: v.Secure(), Object: v.Object(), Text: text, Value: obj}
	}
	r.Top = map[string]any{}
	if ps.SecretsProvider != "" {
		r.Top["secretsprovider"] = ps.SecretsProvider
	}
	if ps.EncryptedKey != "" {
		r.Top["encryptedkey"] = ps.EncryptedKey
	}
	if ps.EncryptionSalt != "" {
		r.Top["encryptionsalt"] = ps.EncryptionSalt
	}
	if ps.Environment != nil {
		r.Top["environment"] = string(ps.Environment.Definition())
	}
	r.OK = true
	return r
}

type dirResult struct {
	Dir            string            `json:"dir"`
	OK             bool              `json:"ok"`
	Error          string            `json:"error,omitempty"`
	Project        string            `json:"project,omitempty"`
	Main           string            `json:"main,omitempty"`
	Runtime        string            `json:"runtime,omitempty"`
	Options        map[string]any    `json:"options,omitempty"`
	StackConfigDir string            `json:"stackConfigDir,omitempty"`
	Stacks         map[string]string `json:"stacks"`
}

// readDir reports which files Pulumi reads as the project and the stack files in dir.
func readDir(dir string, stacks []string) (r dirResult) {
	r = dirResult{Dir: dir, Stacks: map[string]string{}}
	defer func() {
		if p := recover(); p != nil {
			r = dirResult{Dir: dir, Error: fmt.Sprintf("panic: %v", p), Stacks: map[string]string{}}
		}
	}()
	back, err := os.Getwd()
	if err != nil {
		r.Error = err.Error()
		return r
	}
	defer func() { _ = os.Chdir(back) }()
	if err := os.Chdir(dir); err != nil {
		r.Error = err.Error()
		return r
	}
	projPath, err := workspace.DetectProjectPathFrom(".")
	if err != nil {
		r.Error = err.Error()
		return r
	}
	abs, _ := filepath.Abs(".")
	rel, err := filepath.Rel(abs, projPath)
	if err != nil {
		rel = projPath
	}
	r.Project = rel
	proj, err := workspace.LoadProject(projPath)
	if err != nil {
		r.Error = err.Error()
		return r
	}
	r.Main = proj.Main
	r.Runtime = proj.Runtime.Name()
	r.Options = proj.Runtime.Options()
	r.StackConfigDir = proj.StackConfigDir
	for _, s := range stacks {
		_, p, err := workspace.DetectProjectStackPath(tokens.QName(s))
		if err != nil {
			r.Error = err.Error()
			return r
		}
		if _, err := os.Stat(p); err == nil {
			if rp, err := filepath.Rel(abs, p); err == nil {
				p = rp
			}
			r.Stacks[s] = p
		}
	}
	r.OK = true
	return r
}

func main() {
	projectPath := flag.String("project", "Pulumi.yaml", "the project file (its name namespaces bare config keys, as the CLI does)")
	dirs := flag.Bool("dirs", false, "read project folders (one a line) and print which files Pulumi reads there")
	stackList := flag.String("stacks", "prod", "with --dirs: the stacks whose files to look for, comma-separated")
	flag.Parse()
	if *dirs {
		in := bufio.NewScanner(os.Stdin)
		out := json.NewEncoder(os.Stdout)
		for in.Scan() {
			if in.Text() == "" {
				continue
			}
			if err := out.Encode(readDir(in.Text(), strings.Split(*stackList, ","))); err != nil {
				fmt.Fprintf(os.Stderr, "yamlcheck: %v\n", err)
				os.Exit(2)
			}
		}
		return
	}
	project, err := workspace.LoadProject(*projectPath)
	if err != nil {
		fmt.Fprintf(os.Stderr, "yamlcheck: %v\n", err)
		os.Exit(2)
	}
	in := bufio.NewScanner(os.Stdin)
	in.Buffer(make([]byte, 1<<20), 1<<20)
	out := json.NewEncoder(os.Stdout)
	for in.Scan() {
		if in.Text() == "" {
			continue
		}
		if err := out.Encode(load(project, in.Text())); err != nil {
			fmt.Fprintf(os.Stderr, "yamlcheck: %v\n", err)
			os.Exit(2)
		}
	}
	if err := in.Err(); err != nil {
		fmt.Fprintf(os.Stderr, "yamlcheck: %v\n", err)
		os.Exit(2)
	}
}
