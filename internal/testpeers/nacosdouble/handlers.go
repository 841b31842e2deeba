package nacosdouble

import (
	"context"
	"encoding/json"
	"fmt"
	"maps"

	nacosgrpc "github.com/nacos-group/nacos-sdk-go/v2/api/grpc"
	"github.com/nacos-group/nacos-sdk-go/v2/common/remote/rpc/rpc_request"
	"github.com/nacos-group/nacos-sdk-go/v2/common/remote/rpc/rpc_response"
	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/peer"
	"google.golang.org/grpc/status"
	"google.golang.org/protobuf/types/known/anypb"
)

// Nacos result and error codes (com.alibaba.nacos.api.remote.response.ResponseCode and
// NacosException).
const (
	codeSuccess    = 200
	codeFail       = 500
	codeUnregister = 301
	codeBadRequest = 400
)

// handlers implements the Request and BiRequestStream gRPC services.
type handlers struct {
	nacosgrpc.UnimplementedRequestServer
	nacosgrpc.UnimplementedBiRequestStreamServer
	st *state
}

// response is what every handler returns: an SDK response struct and its type name.
type response interface{ GetResponseType() string }

func ok() *rpc_response.Response {
	return &rpc_response.Response{ResultCode: codeSuccess, Success: true}
}

func failure(code int, format string, args ...any) *rpc_response.ErrorResponse {
	return &rpc_response.ErrorResponse{Response: &rpc_response.Response{
		ResultCode: codeFail, ErrorCode: code, Message: fmt.Sprintf(format, args...)}}
}

// Request serves the unary requests of the naming client.
func (h *handlers) Request(ctx context.Context, p *nacosgrpc.Payload) (*nacosgrpc.Payload, error) {
	typ := p.GetMetadata().GetType()
	body := p.GetBody().GetValue()
	addr, err := peerAddr(ctx)
	if err != nil {
		return nil, err
	}
	var resp response
	if typ == "ServerCheckRequest" {
		h.st.mu.Lock()
		c := h.st.connFor(addr)
		h.st.mu.Unlock()
		resp = &rpc_response.ServerCheckResponse{Response: ok(), ConnectionId: c.id}
	} else if c := h.st.lookup(addr); c == nil {
		// Nacos answers requests on a connection without ConnectionSetupRequest this way; the
		// SDK then reconnects.
		resp = failure(codeUnregister, "Connection is unregistered.")
	} else if !h.st.authorized(typ, p.GetMetadata().GetHeaders()) {
		resp = unauthorized(typ)
	} else {
		resp = h.handle(c, typ, body)
	}
	var requestID string
	var env struct {
		RequestID string `json:"requestId"`
	}
	if json.Unmarshal(body, &env) == nil {
		requestID = env.RequestID
	}
	return encode(resp, requestID)
}

func (h *handlers) handle(c *conn, typ string, body []byte) response {
	if resp, ok := h.handleConfig(c, typ, body); ok {
		return resp
	}
	switch typ {
	case "HealthCheckRequest":
		return &rpc_response.HealthCheckResponse{Response: ok()}
	case "InstanceRequest":
		req := rpc_request.InstanceRequest{NamingRequest: &rpc_request.NamingRequest{Request: &rpc_request.Request{}}}
		if err := json.Unmarshal(body, &req); err != nil {
			return failure(codeBadRequest, "decode %s: %v", typ, err)
		}
		key := keyOf(req.Namespace, req.GroupName, req.ServiceName)
		inst := normalize(key, req.Instance)
		switch req.Type {
		case "registerInstance":
			h.st.change(key, false, func(insts map[string]ownedInstance) bool {
				insts[instanceID(inst)] = ownedInstance{inst: inst, owner: c.id}
				return true
			})
		case "deregisterInstance":
			h.st.change(key, false, func(insts map[string]ownedInstance) bool {
				_, had := insts[instanceID(inst)]
				delete(insts, instanceID(inst))
				return had
			})
		default:
			return failure(codeBadRequest, "unknown instance request type %q", req.Type)
		}
		return &rpc_response.InstanceResponse{Response: ok()}
	case "BatchInstanceRequest":
		req := rpc_request.BatchInstanceRequest{NamingRequest: &rpc_request.NamingRequest{Request: &rpc_request.Request{}}}
		if err := json.Unmarshal(body, &req); err != nil {
			return failure(codeBadRequest, "decode %s: %v", typ, err)
		}
		if req.Type != "batchRegisterInstance" {
			return failure(codeBadRequest, "unknown batch instance request type %q", req.Type)
		}
		key := keyOf(req.Namespace, req.GroupName, req.ServiceName)
		// A batch registration replaces what this client registered for the service.
		h.st.change(key, false, func(insts map[string]ownedInstance) bool {
			maps.DeleteFunc(insts, func(_ string, oi ownedInstance) bool { return oi.owner == c.id })
			for _, in := range req.Instances {
				inst := normalize(key, in)
				insts[instanceID(inst)] = ownedInstance{inst: inst, owner: c.id}
			}
			return true
		})
		return &rpc_response.BatchInstanceResponse{Response: ok()}
	case "ServiceListRequest":
		req := rpc_request.ServiceListRequest{NamingRequest: &rpc_request.NamingRequest{Request: &rpc_request.Request{}}}
		if err := json.Unmarshal(body, &req); err != nil {
			return failure(codeBadRequest, "decode %s: %v", typ, err)
		}
		names, count := h.st.listServices(req.Namespace, req.GroupName, req.PageNo, req.PageSize)
		return &rpc_response.ServiceListResponse{Response: ok(), Count: count, ServiceNames: names}
	case "SubscribeServiceRequest":
		req := rpc_request.SubscribeServiceRequest{NamingRequest: &rpc_request.NamingRequest{Request: &rpc_request.Request{}}}
		if err := json.Unmarshal(body, &req); err != nil {
			return failure(codeBadRequest, "decode %s: %v", typ, err)
		}
		info := h.st.subscribe(c, keyOf(req.Namespace, req.GroupName, req.ServiceName), req.Subscribe)
		info.Clusters = req.Clusters
		return &rpc_response.SubscribeServiceResponse{Response: ok(), ServiceInfo: info}
	case "ServiceQueryRequest":
		req := rpc_request.ServiceQueryRequest{NamingRequest: &rpc_request.NamingRequest{Request: &rpc_request.Request{}}}
		if err := json.Unmarshal(body, &req); err != nil {
			return failure(codeBadRequest, "decode %s: %v", typ, err)
		}
		h.st.mu.Lock()
		info := h.st.serviceInfo(keyOf(req.Namespace, req.GroupName, req.ServiceName), req.HealthyOnly)
		h.st.mu.Unlock()
		info.Clusters = req.Cluster
		return &rpc_response.QueryServiceResponse{Response: ok(), ServiceInfo: info}
	}
	h.st.t.Errorf("nacosdouble: unsupported request type %q: the double serves the naming and config APIs only", typ)
	return failure(codeBadRequest, "unsupported request type %q", typ)
}

// RequestBiStream serves the connection stream: the ConnectionSetupRequest first, then the
// client's responses to pushed requests.
func (h *handlers) RequestBiStream(stream nacosgrpc.BiRequestStream_RequestBiStreamServer) error {
	addr, err := peerAddr(stream.Context())
	if err != nil {
		return err
	}
	h.st.mu.Lock()
	c := h.st.connFor(addr)
	h.st.mu.Unlock()
	defer h.st.closeConn(c)
	for {
		p, err := stream.Recv()
		if err != nil {
			return nil
		}
		switch typ := p.GetMetadata().GetType(); typ {
		case "ConnectionSetupRequest":
			c.mu.Lock()
			c.stream = stream
			c.registered = true
			c.mu.Unlock()
		default:
			var r rpc_response.Response
			if err := json.Unmarshal(p.GetBody().GetValue(), &r); err != nil {
				h.st.t.Errorf("nacosdouble: undecodable %s on the stream: %v", typ, err)
				continue
			}
			if !r.Success && r.ResultCode != codeSuccess {
				h.st.t.Logf("nacosdouble: client answered %s with result %d: %s", typ, r.ResultCode, r.Message)
				continue
			}
			c.acked(r.RequestId)
		}
	}
}

func peerAddr(ctx context.Context) (string, error) {
	p, found := peer.FromContext(ctx)
	if !found || p.Addr == nil {
		return "", status.Error(codes.Internal, "nacosdouble: no peer address")
	}
	return p.Addr.String(), nil
}

func encode(resp response, requestID string) (*nacosgrpc.Payload, error) {
	if r, ok := resp.(interface{ SetRequestId(string) }); ok {
		r.SetRequestId(requestID)
	}
	b, err := json.Marshal(resp)
	if err != nil {
		return nil, status.Errorf(codes.Internal, "nacosdouble: encode %s: %v", resp.GetResponseType(), err)
	}
	return &nacosgrpc.Payload{
		Metadata: &nacosgrpc.Metadata{Type: resp.GetResponseType(), ClientIp: "127.0.0.1"},
		Body:     &anypb.Any{Value: b},
	}, nil
}
