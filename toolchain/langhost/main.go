// pulumi-language-nodejs for umlab.
//
// The upstream Node.js language host lives in its own Go module, which the Go
// module proxy reachable from our machines does not serve. The language host's
// job is small: serve the LanguageRuntime gRPC API for the engine and, for Run,
// start `node @pulumi/pulumi/cmd/run` with the monitor/engine addresses and the
// stack configuration. This is our own implementation of that contract, built
// from the pulumirpc types of the sdk module at the same version as the CLI.
package main

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"syscall"

	"github.com/pulumi/pulumi/sdk/v3/go/common/resource/config"
	"github.com/pulumi/pulumi/sdk/v3/go/common/util/rpcutil"
	pulumirpc "github.com/pulumi/pulumi/sdk/v3/proto/go"
	"google.golang.org/grpc"
	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/status"
	"google.golang.org/protobuf/types/known/emptypb"
)

// Version is stamped at build time (-ldflags -X main.Version=...).
var Version = "3.248.0"

// The Node SDK exits with this code when it has already shown the user an error.
const nodeExitAfterLoggedError = 32

type host struct {
	pulumirpc.UnimplementedLanguageRuntimeServer
	engineAddress string
}

func main() {
	args := os.Args[1:]
	// Flags the engine may pass (-tracing, -root ...) come first; the engine address is the last positional.
	var engineAddress string
	for i := 0; i < len(args); i++ {
		a := args[i]
		if strings.HasPrefix(a, "-") {
			if !strings.Contains(a, "=") && i+1 < len(args)-1 {
				i++ // flag with a separate value
			}
			continue
		}
		engineAddress = a
	}

	handle, err := rpcutil.ServeWithOptions(rpcutil.ServeOptions{
		Init: func(srv *grpc.Server) error {
			pulumirpc.RegisterLanguageRuntimeServer(srv, &host{engineAddress: engineAddress})
			return nil
		},
	})
	if err != nil {
		fmt.Fprintf(os.Stderr, "pulumi-language-nodejs: could not start the gRPC server: %v\n", err)
		os.Exit(1)
	}
	// The engine reads the port from our first line of output.
	fmt.Printf("%d\n", handle.Port)
	if err := <-handle.Done; err != nil {
		fmt.Fprintf(os.Stderr, "pulumi-language-nodejs: %v\n", err)
		os.Exit(1)
	}
}

func (h *host) Handshake(ctx context.Context, req *pulumirpc.LanguageHandshakeRequest,
) (*pulumirpc.LanguageHandshakeResponse, error) {
	if req.GetEngineAddress() != "" {
		h.engineAddress = req.GetEngineAddress()
	}
	return &pulumirpc.LanguageHandshakeResponse{}, nil
}

func (h *host) GetPluginInfo(ctx context.Context, _ *emptypb.Empty) (*pulumirpc.PluginInfo, error) {
	return &pulumirpc.PluginInfo{Version: Version}, nil
}

// findUp returns the first dir/rel that exists, walking from dir to the filesystem root.
func findUp(dir, rel string) (string, bool) {
	for {
		p := filepath.Join(dir, rel)
		if _, err := os.Stat(p); err == nil {
			return p, true
		}
		parent := filepath.Dir(dir)
		if parent == dir {
			return "", false
		}
		dir = parent
	}
}

func programDir(info *pulumirpc.ProgramInfo, pwd string) string {
	if info != nil && info.GetProgramDirectory() != "" {
		return info.GetProgramDirectory()
	}
	return pwd
}

type packageJSON struct {
	Name    string `json:"name"`
	Version string `json:"version"`
	Type    string `json:"type"`
	Pulumi  struct {
		Resource bool   `json:"resource"`
		Name     string `json:"name"`
		Version  string `json:"version"`
		Server   string `json:"server"`
	} `json:"pulumi"`
}

// GetRequiredPlugins lists the resource plugins of the packages installed in the nearest node_modules
// (those whose package.json says "pulumi": {"resource": true}), as the upstream host does.
func (h *host) GetRequiredPlugins(ctx context.Context, req *pulumirpc.GetRequiredPluginsRequest,
) (*pulumirpc.GetRequiredPluginsResponse, error) {
	nm, ok := findUp(programDir(req.GetInfo(), req.GetPwd()), "node_modules")
	if !ok {
		return &pulumirpc.GetRequiredPluginsResponse{}, nil
	}
	var plugins []*pulumirpc.PluginDependency
	var pkgDirs []string
	entries, err := os.ReadDir(nm)
	if err != nil {
		return nil, err
	}
	for _, e := range entries {
		if strings.HasPrefix(e.Name(), "@") {
			scoped, err := os.ReadDir(filepath.Join(nm, e.Name()))
			if err != nil {
				continue
			}
			for _, s := range scoped {
				pkgDirs = append(pkgDirs, filepath.Join(nm, e.Name(), s.Name()))
			}
		} else if !strings.HasPrefix(e.Name(), ".") {
			pkgDirs = append(pkgDirs, filepath.Join(nm, e.Name()))
		}
	}
	for _, dir := range pkgDirs {
		b, err := os.ReadFile(filepath.Join(dir, "package.json"))
		if err != nil {
			continue
		}
		var p packageJSON
		if json.Unmarshal(b, &p) != nil || !p.Pulumi.Resource {
			continue
		}
		name := p.Pulumi.Name
		if name == "" {
			name = strings.TrimPrefix(strings.TrimPrefix(p.Name, "@pulumi/"), "@")
		}
		version := p.Pulumi.Version
		if version == "" {
			version = p.Version
		}
		if version != "" && !strings.HasPrefix(version, "v") {
			version = "v" + version
		}
		plugins = append(plugins, &pulumirpc.PluginDependency{
			Name: name, Kind: "resource", Version: version, Server: p.Pulumi.Server,
		})
	}
	return &pulumirpc.GetRequiredPluginsResponse{Plugins: plugins}, nil
}

// tsCache says whether the program in dir runs through our TypeScript loader: the loader
// (umlab-ts-cache.js beside this binary) and its cache directory (ts-cache beside bin/). Not for
// an ES-module package (Pulumi's ESM loader path) or when UMLAB_TS_CACHE=0.
func tsCache(dir string) (string, string, bool) {
	if os.Getenv("UMLAB_TS_CACHE") == "0" {
		return "", "", false
	}
	if pj, ok := findUp(dir, "package.json"); ok {
		var p packageJSON
		if b, err := os.ReadFile(pj); err == nil && json.Unmarshal(b, &p) == nil && p.Type == "module" {
			return "", "", false
		}
	}
	exe, err := os.Executable()
	if err != nil {
		return "", "", false
	}
	bin := filepath.Dir(exe)
	hook := filepath.Join(bin, "umlab-ts-cache.js")
	if _, err := os.Stat(hook); err != nil {
		return "", "", false
	}
	return hook, filepath.Join(filepath.Dir(bin), "ts-cache"), true
}

func option(info *pulumirpc.ProgramInfo, name string) (interface{}, bool) {
	if info == nil || info.GetOptions() == nil {
		return nil, false
	}
	v, ok := info.GetOptions().AsMap()[name]
	return v, ok
}

func (h *host) Run(ctx context.Context, req *pulumirpc.RunRequest) (*pulumirpc.RunResponse, error) {
	dir := programDir(req.GetInfo(), req.GetPwd())
	runPath, ok := findUp(dir, filepath.Join("node_modules", "@pulumi", "pulumi", "cmd", "run"))
	if !ok {
		return &pulumirpc.RunResponse{Error: fmt.Sprintf(
			"the Pulumi Node.js SDK is not installed for %s: run `npm install` in the project", dir)}, nil
	}
	nodeBin, err := exec.LookPath("node")
	if err != nil {
		return &pulumirpc.RunResponse{Error: "node was not found on PATH: install Node.js 20 or later"}, nil
	}

	args := []string{runPath}
	add := func(k, v string) {
		if v != "" {
			args = append(args, "--"+k, v)
		}
	}
	add("monitor", req.GetMonitorAddress())
	add("engine", h.engineAddress)
	add("organization", req.GetOrganization())
	add("project", req.GetProject())
	if info := req.GetInfo(); info != nil {
		add("root-directory", info.GetRootDirectory())
	}
	add("stack", req.GetStack())
	add("pwd", req.GetPwd())
	if req.GetDryRun() {
		args = append(args, "--dry-run")
	}
	if req.GetParallel() != 0 {
		add("parallel", strconv.Itoa(int(req.GetParallel())))
	}
	program := "."
	if info := req.GetInfo(); info != nil && info.GetEntryPoint() != "" && info.GetEntryPoint() != "." {
		program = filepath.Join(dir, info.GetEntryPoint())
	} else if req.GetProgram() != "" && req.GetProgram() != "." {
		program = req.GetProgram()
	} else {
		program = dir
	}
	args = append(args, program)
	args = append(args, req.GetArgs()...)

	// The Node SDK still understands the "<ns>:config:<name>" spelling, and so do all its versions.
	cfg := map[string]string{}
	for k, v := range req.GetConfig() {
		key, err := config.ParseKey(k)
		if err != nil {
			return nil, err
		}
		cfg[key.Namespace()+":config:"+key.Name()] = v
	}
	cfgJSON, _ := json.Marshal(cfg)
	secretKeys := req.GetConfigSecretKeys()
	if secretKeys == nil {
		secretKeys = []string{}
	}
	secretJSON, _ := json.Marshal(secretKeys)

	env := append(os.Environ(), "PULUMI_CONFIG="+string(cfgJSON), "PULUMI_CONFIG_SECRET_KEYS="+string(secretJSON))
	typescript := true
	if v, ok := option(req.GetInfo(), "typescript"); ok {
		if b, isBool := v.(bool); isBool {
			typescript = b
		}
	}
	var nodeArgs []string
	if typescript {
		// Lab programs are type-checked by `npm run build`; transpiling only keeps preview fast.
		transpileOnly := os.Getenv("PULUMI_NODEJS_TRANSPILE_ONLY")
		if transpileOnly == "" {
			env = append(env, "PULUMI_NODEJS_TRANSPILE_ONLY=true")
			transpileOnly = "true"
		}
		if hook, cacheDir, ok := tsCache(dir); ok && transpileOnly == "true" {
			// Our loader (toolchain/ts-cache.js) serves unchanged .ts files from a cache by
			// content; Pulumi's ts-node path (typescript loaded every run) is skipped.
			env = append(env, "UMLAB_TS_CACHE_DIR="+cacheDir)
			nodeArgs = append(nodeArgs, "--require", hook)
		} else {
			env = append(env, "PULUMI_NODEJS_TYPESCRIPT=true")
		}
	}
	if v, ok := option(req.GetInfo(), "tsconfig"); ok {
		if s, isStr := v.(string); isStr {
			env = append(env, "PULUMI_NODEJS_TSCONFIG_PATH="+s)
		}
	}
	if v, ok := option(req.GetInfo(), "nodeargs"); ok {
		if s, isStr := v.(string); isStr {
			nodeArgs = append(nodeArgs, strings.Fields(s)...)
		}
	}

	cmd := exec.CommandContext(ctx, nodeBin, append(nodeArgs, args...)...)
	cmd.Stdout = os.Stdout
	cmd.Stderr = os.Stderr
	cmd.Env = env
	if err := cmd.Run(); err != nil {
		var exitErr *exec.ExitError
		if errors.As(err, &exitErr) {
			if ws, ok := exitErr.Sys().(syscall.WaitStatus); ok && ws.ExitStatus() == nodeExitAfterLoggedError {
				return &pulumirpc.RunResponse{Bail: true}, nil
			}
			return &pulumirpc.RunResponse{Error: fmt.Sprintf("Program exited with non-zero exit code: %d",
				exitErr.ExitCode())}, nil
		}
		return &pulumirpc.RunResponse{Error: fmt.Sprintf("could not run node: %v", err)}, nil
	}
	return &pulumirpc.RunResponse{}, nil
}

func (h *host) About(ctx context.Context, req *pulumirpc.AboutRequest) (*pulumirpc.AboutResponse, error) {
	nodeBin, err := exec.LookPath("node")
	if err != nil {
		return nil, status.Error(codes.FailedPrecondition, "node was not found on PATH")
	}
	out, err := exec.Command(nodeBin, "--version").Output()
	if err != nil {
		return nil, err
	}
	return &pulumirpc.AboutResponse{
		Executable: nodeBin,
		Version:    strings.TrimPrefix(strings.TrimSpace(string(out)), "v"),
	}, nil
}

func (h *host) GetProgramDependencies(ctx context.Context, req *pulumirpc.GetProgramDependenciesRequest,
) (*pulumirpc.GetProgramDependenciesResponse, error) {
	return &pulumirpc.GetProgramDependenciesResponse{}, nil
}
