// Package kubernetes holds rpcbridge's Kubernetes manifests (a kustomize base) and the test
// that checks them: every manifest decodes strictly into the Kubernetes API types, the
// references between them hold (labels, ports, Secrets, ConfigMaps, mounted paths), the
// configuration in the ConfigMap passes rpcbridge's own loader, and the repository's
// Dockerfile builds the image the manifests run. It is a module of its own so that the
// Kubernetes API types stay out of rpcbridge's module.
package kubernetes
