package dubbojson

import (
	"encoding/json"
	"math"
	"slices"
)

// encodeUntyped writes a value whose Java type says nothing (Object, unknown classes):
// integers that fit as long, other numbers as double, objects as maps.
func (e *encoder) encodeUntyped(v any, path *jsonPath) error {
	switch x := v.(type) {
	case json.Number:
		if n, err := x.Int64(); err == nil {
			return e.w.scalar(n)
		}
		f, err := x.Float64()
		if err != nil || math.IsInf(f, 0) {
			return failf(path, "%s is out of range", x)
		}
		return e.w.scalar(f)
	case string, bool:
		return e.w.scalar(x)
	case []any:
		e.w.untypedList(len(x))
		for i, item := range x {
			if err := e.encodeUntyped(item, e.at(path, jsonPath{index: i, isIndex: true})); err != nil {
				return err
			}
		}
		return nil
	case map[string]any:
		e.w.mapStart()
		for _, k := range sortedKeys(x) {
			_ = e.w.scalar(k)
			if err := e.encodeUntyped(x[k], e.at(path, jsonPath{key: k})); err != nil {
				return err
			}
		}
		e.w.mapEnd()
		return nil
	}
	return e.w.scalar(nil)
}

func sortedKeys(m map[string]any) []string {
	keys := make([]string, 0, len(m))
	for k := range m {
		keys = append(keys, k)
	}
	slices.Sort(keys)
	return keys
}

// jsonKind names the JSON kind of a decoded value.
func jsonKind(v any) string {
	switch v.(type) {
	case nil:
		return "null"
	case bool:
		return "a boolean"
	case json.Number:
		return "a number"
	case string:
		return "a string"
	case []any:
		return "an array"
	}
	return "an object"
}

// jsonText is v as JSON, for messages.
func jsonText(v any) string {
	b, _ := json.Marshal(v)
	return string(b)
}
