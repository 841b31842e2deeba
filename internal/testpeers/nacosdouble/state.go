package nacosdouble

import (
	"fmt"
	"maps"
	"slices"
	"strconv"
	"sync"
	"testing"
	"time"

	"github.com/nacos-group/nacos-sdk-go/v2/model"
)

// Nacos's defaults for an empty namespace, group and cluster.
const (
	defaultNamespace = "public"
	defaultGroup     = "DEFAULT_GROUP"
	defaultCluster   = "DEFAULT"
)

// serviceKey names one service.
type serviceKey struct{ namespace, group, name string }

func keyOf(namespace, group, name string) serviceKey {
	if namespace == "" {
		namespace = defaultNamespace
	}
	if group == "" {
		group = defaultGroup
	}
	return serviceKey{namespace, group, name}
}

// ownedInstance is an instance and the connection that registered it ("" for the test API).
type ownedInstance struct {
	inst  model.Instance
	owner string
}

// service is one service's instances, by "ip#port#cluster".
type service struct {
	instances   map[string]ownedInstance
	lastRefTime uint64
}

// state is everything the double knows: services, client connections and subscriptions.
type state struct {
	t  testing.TB
	mu sync.Mutex
	// services survive Stop/Restart.
	services map[serviceKey]*service
	// clock is the last lastRefTime handed out; it only grows (the SDK drops pushes whose
	// lastRefTime is not newer than what it has), also across restarts.
	clock uint64
	// conns are the live client connections, by the client's address (one gRPC connection
	// carries the unary calls and the stream of one SDK client).
	conns map[string]*conn
	// nextConn numbers connection IDs.
	nextConn int
	// pushes tracks background pushes, so that Stop can wait for them.
	pushes sync.WaitGroup
	// configs survive Stop/Restart, as Nacos keeps them in its database.
	configs map[configKey]configItem
	// maxContent is the content limit of a publish.
	maxContent int
	// auth, when set, is the one user the double knows; clients must log in and send its token.
	auth *credentials
}

// credentials are the user of a double that requires authentication, and the token it hands
// out at login.
type credentials struct{ username, password, token string }

func newState(t testing.TB) *state {
	return &state{t: t, services: map[serviceKey]*service{}, conns: map[string]*conn{},
		configs: map[configKey]configItem{}, maxContent: DefaultMaxContent}
}

// tick returns a new lastRefTime: the wall clock in milliseconds, or one more than the last.
func (st *state) tick() uint64 {
	st.clock = max(uint64(time.Now().UnixMilli()), st.clock+1)
	return st.clock
}

func instanceID(inst model.Instance) string {
	return inst.Ip + "#" + strconv.FormatUint(inst.Port, 10) + "#" + inst.ClusterName
}

// normalize fills an instance's derived fields the way Nacos does.
func normalize(key serviceKey, inst model.Instance) model.Instance {
	if inst.ClusterName == "" {
		inst.ClusterName = defaultCluster
	}
	inst.ServiceName = key.group + "@@" + key.name
	inst.InstanceId = inst.Ip + "#" + strconv.FormatUint(inst.Port, 10) + "#" + inst.ClusterName + "#" + inst.ServiceName
	inst.Ephemeral = true
	inst.InstanceHeartBeatInterval = 5000
	inst.InstanceHeartBeatTimeOut = 15000
	inst.IpDeleteTimeout = 30000
	inst.Metadata = maps.Clone(inst.Metadata)
	if inst.Metadata == nil {
		inst.Metadata = map[string]string{}
	}
	return inst
}

// serviceInfo renders a service the way Nacos returns and pushes it. Caller holds st.mu.
func (st *state) serviceInfo(key serviceKey, healthyOnly bool) model.Service {
	info := model.Service{
		Name: key.name, GroupName: key.group, CacheMillis: 10000, Valid: true, Hosts: []model.Instance{},
	}
	svc := st.services[key]
	if svc == nil {
		return info
	}
	info.LastRefTime = svc.lastRefTime
	info.Checksum = fmt.Sprintf("%x", svc.lastRefTime)
	for _, id := range slices.Sorted(maps.Keys(svc.instances)) {
		inst := svc.instances[id].inst
		if healthyOnly && !inst.Healthy {
			continue
		}
		inst.Metadata = maps.Clone(inst.Metadata)
		info.Hosts = append(info.Hosts, inst)
	}
	return info
}

// change applies edit to the instances of key (creating the service when missing), and pushes
// the result to every subscriber when edit reports a change. With wait, it returns once every
// subscriber acked (the test API); without, it pushes in the background, as Nacos does for
// changes that clients make.
func (st *state) change(key serviceKey, wait bool, edit func(map[string]ownedInstance) bool) {
	st.mu.Lock()
	svc := st.services[key]
	created := svc == nil
	if created {
		svc = &service{instances: map[string]ownedInstance{}}
		st.services[key] = svc
	}
	if !edit(svc.instances) && !created {
		st.mu.Unlock()
		return
	}
	svc.lastRefTime = st.tick()
	info := st.serviceInfo(key, false)
	subscribers := st.subscribersOf(key)
	st.mu.Unlock()
	if wait {
		st.push(subscribers, key, info)
		return
	}
	st.pushes.Go(func() { st.push(subscribers, key, info) })
}

// deleteService forgets a service; subscribers are not told, as in Nacos.
func (st *state) deleteService(key serviceKey) {
	st.mu.Lock()
	defer st.mu.Unlock()
	delete(st.services, key)
}

// listServices returns one page (1-based) of the service names of a namespace and group,
// sorted, and how many there are.
func (st *state) listServices(namespace, group string, pageNo, pageSize int) ([]string, int) {
	st.mu.Lock()
	defer st.mu.Unlock()
	key := keyOf(namespace, group, "")
	var names []string
	for k := range st.services {
		if k.namespace == key.namespace && k.group == key.group {
			names = append(names, k.name)
		}
	}
	slices.Sort(names)
	if pageNo < 1 {
		pageNo = 1
	}
	if pageSize < 1 {
		pageSize = 10
	}
	start := min((pageNo-1)*pageSize, len(names))
	end := min(start+pageSize, len(names))
	return names[start:end], len(names)
}
