package nacosdouble

import (
	"encoding/json"
	"fmt"
	"unicode"

	"github.com/nacos-group/nacos-sdk-go/v2/common/remote/rpc/rpc_request"
	"github.com/nacos-group/nacos-sdk-go/v2/common/remote/rpc/rpc_response"
	"github.com/nacos-group/nacos-sdk-go/v2/model"
)

// Config service codes (ConfigQueryResponse.CONFIG_NOT_FOUND, NacosException.NO_RIGHT).
const (
	codeConfigNotFound = 300
	codeNoRight        = 403
)

// configFailure is the error part of a config response, as Response.setErrorInfo sets it.
func configFailure(code int, format string, args ...any) *rpc_response.Response {
	return &rpc_response.Response{ResultCode: codeFail, ErrorCode: code, Message: fmt.Sprintf(format, args...)}
}

// handleConfig serves the config service's requests, following Nacos's handlers in
// config/src/main/java/com/alibaba/nacos/config/server/remote. It reports false for a request
// type that is not the config service's.
func (h *handlers) handleConfig(c *conn, typ string, body []byte) (response, bool) {
	switch typ {
	case "ConfigQueryRequest": // ConfigQueryRequestHandler
		req := rpc_request.ConfigQueryRequest{ConfigRequest: &rpc_request.ConfigRequest{Request: &rpc_request.Request{}}}
		if err := json.Unmarshal(body, &req); err != nil {
			return &rpc_response.ConfigQueryResponse{Response: configFailure(codeBadRequest, "decode: %v", err)}, true
		}
		h.st.mu.Lock()
		it, found := h.st.configs[configKeyOf(req.Tenant, req.Group, req.DataId)]
		h.st.mu.Unlock()
		if !found {
			return &rpc_response.ConfigQueryResponse{Response: configFailure(codeConfigNotFound, "config data not exist")}, true
		}
		return &rpc_response.ConfigQueryResponse{Response: ok(), Content: it.content, Md5: it.md5,
			ContentType: "text", LastModified: it.lastModified}, true

	case "ConfigPublishRequest": // ConfigPublishRequestHandler, ConfigOperationService.publishConfig
		req := rpc_request.ConfigPublishRequest{ConfigRequest: &rpc_request.ConfigRequest{Request: &rpc_request.Request{}}}
		if err := json.Unmarshal(body, &req); err != nil {
			return &rpc_response.ConfigPublishResponse{Response: configFailure(codeBadRequest, "decode: %v", err)}, true
		}
		if msg := h.st.checkParam(req.DataId, req.Group, req.Content); msg != "" {
			return &rpc_response.ConfigPublishResponse{Response: configFailure(codeBadRequest, "%s", msg)}, true
		}
		if h.st.publish(configKeyOf(req.Tenant, req.Group, req.DataId), req.Content, req.CasMd5) == casFailed {
			return &rpc_response.ConfigPublishResponse{Response: configFailure(codeFail,
				"Cas publish fail, server md5 may have changed.")}, true
		}
		return &rpc_response.ConfigPublishResponse{Response: ok()}, true

	case "ConfigRemoveRequest": // ConfigRemoveRequestHandler: removing a missing config succeeds
		req := rpc_request.ConfigRemoveRequest{ConfigRequest: &rpc_request.ConfigRequest{Request: &rpc_request.Request{}}}
		if err := json.Unmarshal(body, &req); err != nil {
			return &rpc_response.ConfigRemoveResponse{Response: configFailure(codeBadRequest, "decode: %v", err)}, true
		}
		h.st.putConfig(configKeyOf(req.Tenant, req.Group, req.DataId), "")
		return &rpc_response.ConfigRemoveResponse{Response: ok()}, true

	case "ConfigBatchListenRequest": // ConfigChangeBatchListenRequestHandler
		req := rpc_request.ConfigBatchListenRequest{ConfigRequest: &rpc_request.ConfigRequest{Request: &rpc_request.Request{}}}
		if err := json.Unmarshal(body, &req); err != nil {
			return &rpc_response.ConfigChangeBatchListenResponse{Response: configFailure(codeBadRequest, "decode: %v", err)}, true
		}
		resp := &rpc_response.ConfigChangeBatchListenResponse{Response: ok(), ChangedConfigs: []model.ConfigContext{}}
		for _, lc := range req.ConfigListenContexts {
			if h.st.listen(c, configKeyOf(lc.Tenant, lc.Group, lc.DataId), lc.Md5, req.Listen) {
				resp.ChangedConfigs = append(resp.ChangedConfigs, model.ConfigContext{Group: lc.Group, DataId: lc.DataId, Tenant: lc.Tenant})
			}
		}
		return resp, true
	}
	return nil, false
}

// checkParam is ParamUtils.checkParam(dataId, group, datumId, content): data ID and group of
// letters, digits and "_-.:", content not blank and at most maxContent characters.
func (st *state) checkParam(dataID, group, content string) string {
	st.mu.Lock()
	limit := st.maxContent
	st.mu.Unlock()
	switch {
	case !validParam(dataID):
		return "invalid dataId : " + dataID
	case !validParam(group):
		return "invalid group : " + group
	case len([]rune(content)) == 0 || isBlank(content):
		return "content is blank : " + content
	case len([]rune(content)) > limit:
		return fmt.Sprintf("invalid content, over %d", limit)
	}
	return ""
}

func validParam(s string) bool {
	if s == "" {
		return false
	}
	for _, r := range s {
		if !unicode.IsLetter(r) && !unicode.IsDigit(r) && r != '_' && r != '-' && r != '.' && r != ':' {
			return false
		}
	}
	return true
}

func isBlank(s string) bool {
	for _, r := range s {
		if !unicode.IsSpace(r) {
			return false
		}
	}
	return true
}

// authorized reports whether a request may be served: always, unless RequireAuth is set; then
// every request but the connection's own handshake must carry the token handed out at login
// (the accessToken header, checked by Nacos's RemoteRequestAuthFilter).
func (st *state) authorized(typ string, headers map[string]string) bool {
	st.mu.Lock()
	defer st.mu.Unlock()
	if st.auth == nil {
		return true
	}
	switch typ {
	case "ServerCheckRequest", "HealthCheckRequest":
		return true
	}
	return headers["accessToken"] == st.auth.token
}

// unauthorized is the answer to a request without a valid token: the handler's own response
// type with NO_RIGHT, as AbstractRequestFilter builds it.
func unauthorized(typ string) response {
	r := configFailure(codeNoRight, "user not found!")
	switch typ {
	case "ConfigQueryRequest":
		return &rpc_response.ConfigQueryResponse{Response: r}
	case "ConfigPublishRequest":
		return &rpc_response.ConfigPublishResponse{Response: r}
	case "ConfigRemoveRequest":
		return &rpc_response.ConfigRemoveResponse{Response: r}
	case "ConfigBatchListenRequest":
		return &rpc_response.ConfigChangeBatchListenResponse{Response: r}
	}
	return &rpc_response.ErrorResponse{Response: r}
}
