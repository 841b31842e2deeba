package nacossdk

import "sync"

// closeMu serializes CloseClient across the process.
var closeMu sync.Mutex

// CloseClient closes an SDK client (naming or config), never at the same time as another one.
// nacos-sdk-go v2.3.5's RpcClient.Shutdown deletes the client from the package's global client
// map without the lock that guards it, so two clients closing together can crash the process
// with "concurrent map writes" (nacos-group/nacos-sdk-go#861, fixed upstream after v2.3.5, which
// is the newest release the module proxy serves here). This lock rules that out; the
// remaining race, a close against another client's lookup in the same map, is the SDK's to fix.
func CloseClient(c interface{ CloseClient() }) {
	closeMu.Lock()
	defer closeMu.Unlock()
	c.CloseClient()
}
