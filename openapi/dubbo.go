package openapi

import (
	"strings"

	"github.com/rpcbridge/rpcbridge/controlplane/ir"
	"github.com/rpcbridge/rpcbridge/javatype"
)

// dubboOperation describes a Dubbo route: each argument is a path, query or header parameter, a
// member of the JSON body object, or the whole body; the result is the JSON body of the answer.
func (d *document) dubboOperation(r ir.Route, method string, p openAPIPath, names []string) obj {
	db := r.Dubbo
	service := db.Interface
	if db.Version != "" {
		service += ":" + db.Version
	}
	if db.Group != "" {
		service = db.Group + "/" + service
	}
	var types []string
	for _, prm := range db.Params {
		types = append(types, javatype.Name(prm.Type).Erasure())
	}
	op := obj{
		"operationId": d.operationID(sanitize(service+"."+db.Method+"~"+strings.Join(types, ",")) + "_" + strings.ToLower(method)),
		"summary":     "Calls " + service + " " + db.Method + "(" + strings.Join(types, ",") + ")",
		"tags":        []any{service},
	}
	if summary, description := splitDoc(db.Doc); summary != "" {
		op["summary"] = summary
		if description != "" {
			op["description"] = description
		}
	}
	byKey := map[string]ir.DubboParam{}
	for _, prm := range db.Params {
		if prm.From == ir.FromPath {
			byKey[prm.Key] = prm
		}
	}
	params := d.pathParams(p, names, func(field string) (obj, string) {
		if prm, ok := byKey[field]; ok {
			return d.javas.schema(prm.Type), argumentDoc(prm)
		}
		return obj{"type": "string"}, ""
	})
	bodyProps, required := obj{}, []any{}
	for _, prm := range db.Params {
		schema := d.javas.schema(prm.Type)
		desc := argumentDoc(prm)
		primitive := javatype.Name(prm.Type).IsPrimitive()
		switch prm.From {
		case ir.FromQuery, ir.FromHeader:
			params = append(params, obj{"name": prm.Key, "in": string(prm.From), "required": primitive, "schema": schema, "description": desc})
		case ir.FromBody:
			bodyProps[prm.Key] = documented(schema, prm.Doc)
			if primitive {
				required = append(required, prm.Key)
			}
		case ir.FromWholeBody:
			op["requestBody"] = obj{"required": true, "description": desc, "content": obj{"application/json": obj{"schema": schema}}}
		}
	}
	if len(params) > 0 {
		op["parameters"] = params
	}
	if len(bodyProps) > 0 {
		body := obj{"type": "object", "properties": bodyProps}
		if len(required) > 0 {
			body["required"] = required
		}
		op["requestBody"] = obj{"required": len(required) > 0, "description": "The arguments by name.",
			"content": obj{"application/json": obj{"schema": body}}}
	}
	if db.Upload {
		addDubboUpload(op, db, d.javas.schema)
	}
	ok := obj{"description": "The method returned nothing (JSON null)."}
	switch {
	case db.Returns != "" && javatype.Name(db.Returns).Family() == javatype.Bytes:
		ok = dubboDownload(db)
	case db.Returns != "" && javatype.Name(db.Returns).Family() != javatype.Void:
		ok = jsonContent(d.javas.schema(db.Returns), or(db.ReturnsDoc, "The result ("+db.Returns+")."))
	}
	op["responses"] = obj{"200": ok, "default": obj{"description": "The call failed or the provider threw an exception."}}
	return op
}

// binarySchema is a file: the body itself, or a multipart/form-data part.
func binarySchema() obj { return obj{"type": "string", "format": "binary"} }

// addDubboUpload adds the upload forms of a route that takes a file to its request body: a
// multipart/form-data object whose byte[] members are files (format: binary) and, when the
// route's only body argument is byte[], the raw body (application/octet-stream).
func addDubboUpload(op obj, db *ir.DubboRoute, schema func(string) obj) {
	props, fileArgs, bodyArgs := obj{}, 0, 0
	for _, prm := range db.Params {
		if prm.From != ir.FromBody && prm.From != ir.FromWholeBody {
			continue
		}
		bodyArgs++
		key := prm.Key
		if prm.From == ir.FromWholeBody {
			key = prm.Name
		}
		if javatype.Name(prm.Type).Family() == javatype.Bytes {
			props[key] = binarySchema()
			fileArgs++
			continue
		}
		props[key] = schema(prm.Type)
	}
	body, _ := op["requestBody"].(obj)
	if body == nil {
		body = obj{"required": true, "description": "The arguments by name."}
		op["requestBody"] = body
	}
	content, _ := body["content"].(obj)
	if content == nil {
		content = obj{}
		body["content"] = content
	}
	content["multipart/form-data"] = obj{"schema": obj{"type": "object", "properties": props}}
	if fileArgs == 1 && bodyArgs == 1 {
		content["application/octet-stream"] = obj{"schema": binarySchema()}
	}
	body["description"] = "The arguments: JSON (byte[] as base64), a multipart/form-data form (files as parts), " +
		"or, for a sole byte[] argument, the raw bytes."
}

// dubboDownload is the answer of a byte[] result: the bytes themselves.
func dubboDownload(db *ir.DubboRoute) obj {
	contentType, desc := "application/octet-stream", "The result (byte[]) as the body."
	if dl := db.Download; dl != nil {
		if dl.ContentType != "" {
			contentType = dl.ContentType
		}
		if dl.Filename != "" {
			desc += " An attachment named " + dl.Filename + " (Content-Disposition)."
		}
	}
	return obj{"description": desc, "content": obj{contentType: obj{"schema": binarySchema()}}}
}

// argumentDoc describes a Dubbo argument: its @param text, or its name and type.
func argumentDoc(prm ir.DubboParam) string {
	if prm.Doc != "" {
		return prm.Doc
	}
	return "Argument " + prm.Name + " (" + prm.Type + ")."
}
