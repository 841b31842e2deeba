package ir

// Canary and gray release in the IR: plain clusters and routes, so that every data plane runs
// them with what it already has. transcoding derives a subset cluster per (service, subset) whose
// endpoints are the service's endpoints with the subset's labels (Cluster.Subset says so), places
// header-matched routes to it before the route (Match.Headers), and splits the route's own
// traffic by weight (Route.WeightedClusters, Envoy's weighted_clusters).

// ClusterWeight is one target of a route's traffic split (Envoy's
// RouteAction.weighted_clusters.clusters[]).
type ClusterWeight struct {
	// Cluster is the target cluster's name (ClusterWeight.name).
	Cluster string `json:"cluster" yaml:"cluster"`
	// Weight is the cluster's share: a request goes to it with probability Weight divided by
	// the sum of the route's weights (ClusterWeight.weight). Zero is allowed; the sum is not.
	Weight uint32 `json:"weight" yaml:"weight"`
}

// Subset says that a cluster holds some of another cluster's endpoints, selected by their labels
// (a canary or Dubbo tag subset). The cluster carries the parent's policies; its endpoints are
// already selected, so Subset is descriptive: for diagnostics, and so that what lists services
// (the Dubbo ingress) lists the parent only.
type Subset struct {
	// Parent is the cluster (the service) whose endpoints were selected.
	Parent string `json:"parent" yaml:"parent"`
	// Selector says which endpoints ("version=2.0", "not version=2.0", "dubbo.tag=gray",
	// "dubbo.tag=" for the untagged ones, "none" for an empty subset).
	Selector string `json:"selector" yaml:"selector"`
}

// HeaderMatch is one condition on a request header (Envoy's route HeaderMatcher with a
// string_match). Exactly one of Exact and Regex is set.
type HeaderMatch struct {
	// Name is the header's name, lower case (HeaderMatcher.name).
	Name string `json:"name" yaml:"name"`
	// Exact is the value the header must have (StringMatcher.exact).
	Exact string `json:"exact,omitempty" yaml:"exact,omitempty"`
	// Regex is an RE2 expression the whole value must match (StringMatcher.safe_regex).
	Regex string `json:"regex,omitempty" yaml:"regex,omitempty"`
	// IgnoreCase compares Exact without regard to ASCII case (StringMatcher.ignore_case).
	IgnoreCase bool `json:"ignoreCase,omitempty" yaml:"ignoreCase,omitempty"`
	// MissingAsEmpty evaluates an absent header as the empty value instead of failing
	// (HeaderMatcher.treat_missing_header_as_empty).
	MissingAsEmpty bool `json:"missingAsEmpty,omitempty" yaml:"missingAsEmpty,omitempty"`
}
