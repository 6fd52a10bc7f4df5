package config

import (
	"bytes"
	"errors"
	"fmt"
	"os"
	"reflect"
	"sort"
	"strings"

	"github.com/go-viper/mapstructure/v2"
	"github.com/spf13/viper"
	"go.yaml.in/yaml/v3"
)

// Load reads the configuration: the defaults, overridden by the YAML file at
// path (none when path is empty), overridden by CONCORD_* environment variables.
//
// A file or environment that cannot be read returns a plain error. Otherwise
// every problem found, keys the file names that do not exist, values of the
// wrong type and everything [Config.Validate] rejects, is returned together in
// one [*ValidationError], alongside the configuration as decoded so far.
func Load(path string) (Config, error) {
	v := viper.New()
	v.SetEnvPrefix(EnvPrefix)
	v.SetEnvKeyReplacer(strings.NewReplacer(".", "_"))
	v.AutomaticEnv()
	for _, k := range Keys() {
		// Registering every key lets viper see its environment variable,
		// nested keys included, in AllKeys and AllSettings as well as in Get.
		v.SetDefault(k.Path, k.Default)
	}

	var issues []Issue
	if path != "" {
		fileIssues, err := readFile(v, path)
		if err != nil {
			return Config{}, err
		}
		issues = append(issues, fileIssues...)
	}

	c, decodeIssues := decode(v)
	issues = append(issues, decodeIssues...)
	var verr *ValidationError
	if err := c.Validate(); errors.As(err, &verr) {
		issues = append(issues, verr.Issues...)
	}
	if len(issues) > 0 {
		return c, &ValidationError{Issues: issues}
	}
	return c, nil
}

// readFile loads the YAML file at path into v and reports the keys it names
// that are not part of the tree.
func readFile(v *viper.Viper, path string) ([]Issue, error) {
	data, err := os.ReadFile(path)
	if err != nil {
		return nil, fmt.Errorf("config: read %s: %w", path, err)
	}
	var tree map[string]any
	if err := yaml.Unmarshal(data, &tree); err != nil {
		return nil, fmt.Errorf("config: parse %s: %w", path, err)
	}
	v.SetConfigType("yaml")
	if err := v.ReadConfig(bytes.NewReader(data)); err != nil {
		return nil, fmt.Errorf("config: load %s: %w", path, err)
	}
	leaves, sections := knownPaths()
	issues := unknownKeys(tree, "", leaves, sections)
	sort.Slice(issues, func(i, j int) bool { return issues[i].Path < issues[j].Path })
	return issues, nil
}

// unknownKeys walks a parsed YAML mapping and reports every key that is not a
// leaf or section of the tree, and every section given a non-mapping value.
func unknownKeys(tree map[string]any, prefix string, leaves, sections map[string]bool) []Issue {
	var issues []Issue
	for name, value := range tree {
		path := strings.ToLower(name)
		if prefix != "" {
			path = prefix + "." + path
		}
		switch {
		case leaves[path]:
		case sections[path]:
			if value == nil {
				continue
			}
			sub, ok := value.(map[string]any)
			if !ok {
				issues = append(issues, Issue{Path: path, Problem: "is a section and must be a mapping"})
				continue
			}
			issues = append(issues, unknownKeys(sub, path, leaves, sections)...)
		default:
			issues = append(issues, Issue{Path: path, Problem: "unknown key"})
		}
	}
	return issues
}

// decode fills a Config from v one leaf at a time, so that a value of the
// wrong type is reported with its own path and leaves the default in place.
func decode(v *viper.Viper) (Config, []Issue) {
	c := Defaults()
	var issues []Issue
	walk(reflect.ValueOf(&c).Elem(), "", 0, func(n node) {
		if n.section {
			return
		}
		raw := v.Get(n.path)
		if raw == nil {
			// A YAML null, or a key under a section that is not a mapping
			// (reported by readFile): keep the default.
			return
		}
		def := reflect.New(n.value.Type()).Elem()
		def.Set(n.value)
		n.value.Set(reflect.Zero(n.value.Type()))
		if err := decodeValue(raw, n.value.Addr().Interface()); err != nil {
			n.value.Set(def)
			issues = append(issues, Issue{
				Path:    n.path,
				Problem: fmt.Sprintf("cannot use %v: want type %s", raw, typeName(n.value.Kind())),
			})
			return
		}
		if n.value.Kind() == reflect.Slice && n.value.IsNil() {
			n.value.Set(reflect.MakeSlice(n.value.Type(), 0, 0))
		}
	})
	return c, issues
}

func decodeValue(raw, out any) error {
	dec, err := mapstructure.NewDecoder(&mapstructure.DecoderConfig{
		Result:           out,
		WeaklyTypedInput: true,
		DecodeHook:       mapstructure.StringToSliceHookFunc(","),
	})
	if err != nil {
		return fmt.Errorf("config: new decoder: %w", err)
	}
	if err := dec.Decode(raw); err != nil {
		return fmt.Errorf("config: decode: %w", err)
	}
	return nil
}
