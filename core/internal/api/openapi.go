package api

import (
	"net/http"
	"reflect"
	"regexp"
	"strconv"
	"strings"
	"time"

	"github.com/gin-gonic/gin"
)

// openAPIDocument builds the OpenAPI 3 document from the route table, so
// the document and the router cannot drift apart; a test checks every
// route gin serves is in it and the other way round.
func (a *API) openAPIDocument() map[string]any {
	paths := map[string]map[string]any{}
	for _, rt := range a.table {
		p := openAPIPath(rt.Path)
		if paths[p] == nil {
			paths[p] = map[string]any{}
		}
		paths[p][strings.ToLower(rt.Method)] = a.operation(rt)
	}
	return map[string]any{
		"openapi": "3.0.3",
		"info": map[string]any{
			"title":       "Catalyst API",
			"version":     a.Version,
			"description": `Answers are {"data": …}; errors are {"error": {"code", "message", "field"?, "request_id"}}.`,
		},
		"paths": paths,
		"components": map[string]any{
			"securitySchemes": map[string]any{
				"bearer": map[string]any{"type": "http", "scheme": "bearer",
					"description": "An access token from /api/auth/login, or an API key (cat_…)"},
			},
			"schemas": map[string]any{"Error": schemaOf(reflect.TypeOf(errorBody{}))},
		},
	}
}

var pathParam = regexp.MustCompile(`:([A-Za-z_]+)`)

func openAPIPath(ginPath string) string { return pathParam.ReplaceAllString(ginPath, "{$1}") }

func (a *API) operation(rt route) map[string]any {
	op := map[string]any{
		"operationId": strings.ToLower(rt.Method) + strings.NewReplacer("/", "_", ":", "", "-", "_", ".", "_").Replace(strings.TrimPrefix(rt.Path, "/api")),
		"summary":     rt.Summary,
	}
	var params []any
	for _, m := range pathParam.FindAllStringSubmatch(rt.Path, -1) {
		params = append(params, map[string]any{"name": m[1], "in": "path", "required": true, "schema": map[string]any{"type": "string"}})
	}
	if params != nil {
		op["parameters"] = params
	}
	if rt.Request != nil {
		op["requestBody"] = map[string]any{
			"required": true,
			"content":  map[string]any{"application/json": map[string]any{"schema": schemaOf(reflect.TypeOf(rt.Request))}},
		}
	}
	if rt.BodyType != "" {
		op["requestBody"] = map[string]any{
			"required": true,
			"content":  map[string]any{rt.BodyType: map[string]any{"schema": rawSchema(rt.BodyType)}},
		}
	}
	status := rt.Status
	if status == 0 {
		status = http.StatusOK
	}
	ok := map[string]any{"description": http.StatusText(status)}
	if rt.Response != nil {
		ok["content"] = map[string]any{"application/json": map[string]any{"schema": map[string]any{
			"type": "object", "properties": map[string]any{"data": schemaOf(reflect.TypeOf(rt.Response))},
		}}}
	}
	if rt.AnswerType != "" {
		ok["content"] = map[string]any{rt.AnswerType: map[string]any{"schema": rawSchema(rt.AnswerType)}}
	}
	errRef := map[string]any{"description": "error", "content": map[string]any{"application/json": map[string]any{
		"schema": map[string]any{"$ref": "#/components/schemas/Error"}}}}
	responses := map[string]any{strconv.Itoa(status): ok, "default": errRef, "429": errRef}
	if rt.Request != nil {
		responses["400"], responses["413"], responses["422"] = errRef, errRef, errRef
	}
	if rt.BodyType != "" {
		responses["413"], responses["415"] = errRef, errRef
	}
	if rt.AnswerType != "" && strings.HasPrefix(rt.Path, filesPath) {
		// The file routes honour ranges and conditional requests.
		responses["206"] = map[string]any{"description": http.StatusText(http.StatusPartialContent), "content": ok["content"]}
		responses["304"] = map[string]any{"description": http.StatusText(http.StatusNotModified)}
		responses["416"] = errRef
	}
	if rt.Access != Public {
		op["security"] = []any{map[string]any{"bearer": []any{}}}
		responses["401"] = errRef
	}
	switch rt.Access {
	case Global:
		op["x-permission"] = string(rt.Perm)
		responses["403"] = errRef
	case OnServer:
		op["x-permission"] = string(rt.Perm)
		responses["403"], responses["404"] = errRef, errRef
	}
	op["responses"] = responses
	return op
}

// rawSchema describes a body that is bytes, not JSON: a file, or files
// as multipart "files" parts.
func rawSchema(mediaType string) map[string]any {
	binary := map[string]any{"type": "string", "format": "binary"}
	if mediaType == "multipart/form-data" {
		return map[string]any{"type": "object", "properties": map[string]any{"files": map[string]any{"type": "array", "items": binary}}}
	}
	return binary
}

var timeType = reflect.TypeOf(time.Time{})

// schemaOf describes a Go type the way encoding/json writes it.
func schemaOf(t reflect.Type) map[string]any {
	if t == timeType {
		return map[string]any{"type": "string", "format": "date-time"}
	}
	switch t.Kind() {
	case reflect.Pointer:
		s := schemaOf(t.Elem())
		s["nullable"] = true
		return s
	case reflect.String:
		return map[string]any{"type": "string"}
	case reflect.Bool:
		return map[string]any{"type": "boolean"}
	case reflect.Int, reflect.Int8, reflect.Int16, reflect.Int32, reflect.Int64,
		reflect.Uint, reflect.Uint8, reflect.Uint16, reflect.Uint32, reflect.Uint64:
		return map[string]any{"type": "integer"}
	case reflect.Float32, reflect.Float64:
		return map[string]any{"type": "number"}
	case reflect.Slice, reflect.Array:
		return map[string]any{"type": "array", "items": schemaOf(t.Elem())}
	case reflect.Map:
		return map[string]any{"type": "object", "additionalProperties": schemaOf(t.Elem())}
	case reflect.Struct:
		props := map[string]any{}
		addFields(t, props)
		return map[string]any{"type": "object", "properties": props}
	}
	return map[string]any{}
}

func addFields(t reflect.Type, props map[string]any) {
	for i := range t.NumField() {
		f := t.Field(i)
		tag := f.Tag.Get("json")
		if tag == "-" {
			continue
		}
		name, _, _ := strings.Cut(tag, ",")
		if f.Anonymous && name == "" && f.Type.Kind() == reflect.Struct {
			addFields(f.Type, props)
			continue
		}
		if !f.IsExported() {
			continue
		}
		if name == "" {
			name = f.Name
		}
		props[name] = schemaOf(f.Type)
	}
}

func (a *API) openAPI(c *gin.Context) {
	b, err := a.openAPIJSON()
	if err != nil {
		a.fail(c, err)
		return
	}
	c.Data(http.StatusOK, "application/json; charset=utf-8", b)
}
