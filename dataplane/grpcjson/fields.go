package grpcjson

import (
	"encoding/base64"
	"encoding/json"
	"errors"
	"fmt"
	"strconv"
	"strings"
	"unicode/utf8"

	"google.golang.org/protobuf/encoding/protojson"
	"google.golang.org/protobuf/reflect/protoreflect"
	"google.golang.org/protobuf/types/dynamicpb"
)

// wrapperTypes are the google.protobuf wrappers, bound from text as their one "value" field.
var wrapperTypes = map[protoreflect.FullName]bool{
	"google.protobuf.DoubleValue": true, "google.protobuf.FloatValue": true,
	"google.protobuf.Int64Value": true, "google.protobuf.UInt64Value": true,
	"google.protobuf.Int32Value": true, "google.protobuf.UInt32Value": true,
	"google.protobuf.BoolValue": true, "google.protobuf.StringValue": true,
	"google.protobuf.BytesValue": true,
}

// stringTypes are the well-known types whose JSON form is one string.
var stringTypes = map[protoreflect.FullName]bool{
	"google.protobuf.Timestamp": true, "google.protobuf.Duration": true, "google.protobuf.FieldMask": true,
}

// findField returns md's field called name (its proto name or its JSON name), or nil.
func findField(md protoreflect.MessageDescriptor, name string) protoreflect.FieldDescriptor {
	if fd := md.Fields().ByName(protoreflect.Name(name)); fd != nil {
		return fd
	}
	return md.Fields().ByJSONName(name)
}

// resolvePath resolves a dotted field path in md. Every field but the last must be a singular
// message, as google.api.http requires.
func resolvePath(md protoreflect.MessageDescriptor, path string) ([]protoreflect.FieldDescriptor, error) {
	fds := make([]protoreflect.FieldDescriptor, 0, strings.Count(path, ".")+1)
	for rest, more := path, true; more; {
		var name string
		name, rest, more = strings.Cut(rest, ".")
		fd := findField(md, name)
		if fd == nil {
			return nil, fmt.Errorf("message %s has no field %q", md.FullName(), name)
		}
		fds = append(fds, fd)
		if more {
			if fd.Kind() != protoreflect.MessageKind || fd.IsList() || fd.IsMap() {
				return nil, fmt.Errorf("field %s is not a singular message, so %q cannot go through it", fd.FullName(), path)
			}
			md = fd.Message()
		}
	}
	return fds, nil
}

// mutableParent walks to the message that holds the last field of fds, creating the messages
// on the way.
func mutableParent(msg protoreflect.Message, fds []protoreflect.FieldDescriptor) protoreflect.Message {
	for _, fd := range fds[:len(fds)-1] {
		msg = msg.Mutable(fd).Message()
	}
	return msg
}

// setFromText sets the field at fds from textual values (a path variable or the values of a
// query parameter): a repeated field gets every value, a singular one the last.
func setFromText(msg protoreflect.Message, fds []protoreflect.FieldDescriptor, values []string, foldEnums bool) error {
	parent := mutableParent(msg, fds)
	leaf := fds[len(fds)-1]
	if leaf.IsMap() {
		return fmt.Errorf("field %s is a map, which cannot be bound from text", leaf.FullName())
	}
	if leaf.IsList() {
		list := parent.Mutable(leaf).List()
		for _, s := range values {
			v, err := parseText(leaf, s, foldEnums)
			if err != nil {
				return err
			}
			list.Append(v)
		}
		return nil
	}
	v, err := parseText(leaf, values[len(values)-1], foldEnums)
	if err != nil {
		return err
	}
	parent.Set(leaf, v)
	return nil
}

// parseText converts one textual value to the type of fd (the element type for lists).
func parseText(fd protoreflect.FieldDescriptor, s string, foldEnums bool) (protoreflect.Value, error) {
	v, err := parseScalar(fd, s, foldEnums)
	if err != nil {
		return protoreflect.Value{}, fmt.Errorf("invalid value %q for field %s: %w", s, fd.FullName(), err)
	}
	return v, nil
}

func parseScalar(fd protoreflect.FieldDescriptor, s string, foldEnums bool) (protoreflect.Value, error) {
	switch fd.Kind() {
	case protoreflect.BoolKind:
		b, err := strconv.ParseBool(s)
		return protoreflect.ValueOfBool(b), err
	case protoreflect.Int32Kind, protoreflect.Sint32Kind, protoreflect.Sfixed32Kind:
		n, err := strconv.ParseInt(s, 10, 32)
		return protoreflect.ValueOfInt32(int32(n)), err
	case protoreflect.Int64Kind, protoreflect.Sint64Kind, protoreflect.Sfixed64Kind:
		n, err := strconv.ParseInt(s, 10, 64)
		return protoreflect.ValueOfInt64(n), err
	case protoreflect.Uint32Kind, protoreflect.Fixed32Kind:
		n, err := strconv.ParseUint(s, 10, 32)
		return protoreflect.ValueOfUint32(uint32(n)), err
	case protoreflect.Uint64Kind, protoreflect.Fixed64Kind:
		n, err := strconv.ParseUint(s, 10, 64)
		return protoreflect.ValueOfUint64(n), err
	case protoreflect.FloatKind:
		f, err := strconv.ParseFloat(s, 32)
		return protoreflect.ValueOfFloat32(float32(f)), err
	case protoreflect.DoubleKind:
		f, err := strconv.ParseFloat(s, 64)
		return protoreflect.ValueOfFloat64(f), err
	case protoreflect.StringKind:
		// protojson refuses invalid UTF-8 in a JSON string with a 400; text from the URL gets the
		// same answer instead of a 500 from proto.Marshal.
		if !utf8.ValidString(s) {
			return protoreflect.Value{}, errors.New("not valid UTF-8")
		}
		return protoreflect.ValueOfString(s), nil
	case protoreflect.BytesKind:
		b, err := decodeBase64(s)
		return protoreflect.ValueOfBytes(b), err
	case protoreflect.EnumKind:
		return parseEnum(fd.Enum(), s, foldEnums)
	case protoreflect.MessageKind, protoreflect.GroupKind:
		return parseMessage(fd.Message(), s, foldEnums)
	}
	return protoreflect.Value{}, fmt.Errorf("unsupported kind %s", fd.Kind())
}

// parseEnum accepts a value name (upper-cased first when foldEnums) or a number.
func parseEnum(ed protoreflect.EnumDescriptor, s string, foldEnums bool) (protoreflect.Value, error) {
	name := s
	if foldEnums {
		name = strings.ToUpper(s)
	}
	if v := ed.Values().ByName(protoreflect.Name(name)); v != nil {
		return protoreflect.ValueOfEnum(v.Number()), nil
	}
	n, err := strconv.ParseInt(s, 10, 32)
	if err != nil {
		return protoreflect.Value{}, fmt.Errorf("not a value of enum %s", ed.FullName())
	}
	return protoreflect.ValueOfEnum(protoreflect.EnumNumber(n)), nil
}

// parseMessage binds text to the message types that stand for one scalar: the wrappers and
// Timestamp, Duration and FieldMask in their JSON string forms.
func parseMessage(md protoreflect.MessageDescriptor, s string, foldEnums bool) (protoreflect.Value, error) {
	m := dynamicpb.NewMessage(md)
	switch {
	case wrapperTypes[md.FullName()]:
		inner := md.Fields().ByName("value")
		v, err := parseScalar(inner, s, foldEnums)
		if err != nil {
			return protoreflect.Value{}, err
		}
		m.Set(inner, v)
	case stringTypes[md.FullName()]:
		quoted, err := json.Marshal(s)
		if err != nil {
			return protoreflect.Value{}, err
		}
		if err := protojson.Unmarshal(quoted, m); err != nil {
			return protoreflect.Value{}, err
		}
	default:
		return protoreflect.Value{}, fmt.Errorf("message %s cannot be bound from text", md.FullName())
	}
	return protoreflect.ValueOfMessage(m), nil
}

// decodeBase64 accepts standard and URL-safe base64, padded or not, as proto3 JSON does.
func decodeBase64(s string) ([]byte, error) {
	enc := base64.StdEncoding
	if strings.ContainsAny(s, "-_") {
		enc = base64.URLEncoding
	}
	if len(s)%4 != 0 {
		enc = enc.WithPadding(base64.NoPadding)
	}
	return enc.DecodeString(s)
}
