package config

// UploadsConfig bounds IDL uploads through the admin API and the IDL store they fill
// (admin.uploads). Sizes are in bytes, as Envoy's *_bytes fields are. A zero field takes the
// default of the package that enforces it (idl/upload.DefaultLimits, admin.DefaultMaxConcurrentUploads,
// idl/store.DefaultQuotaBytes); docs/operations.md lists them. Read at start only.
type UploadsConfig struct {
	// MaxConcurrent bounds the uploads unpacked and validated at once; more are answered 429.
	MaxConcurrent int `yaml:"maxConcurrent"`
	// MaxBytes bounds one upload as sent (the archive, form or file).
	MaxBytes int64 `yaml:"maxBytes"`
	// MaxUnpackedBytes bounds the files of one upload once unpacked.
	MaxUnpackedBytes int64 `yaml:"maxUnpackedBytes"`
	// MaxFiles bounds the files of one upload.
	MaxFiles int `yaml:"maxFiles"`
	// StoreQuotaBytes bounds the uploaded files of every stored schema's current version together.
	StoreQuotaBytes int64 `yaml:"storeQuotaBytes"`
}

// validate refuses negative limits (zero means the default).
func (u UploadsConfig) validate(add func(key, format string, args ...any)) {
	for _, f := range []struct {
		key   string
		value int64
	}{
		{"maxConcurrent", int64(u.MaxConcurrent)}, {"maxBytes", u.MaxBytes}, {"maxUnpackedBytes", u.MaxUnpackedBytes},
		{"maxFiles", int64(u.MaxFiles)}, {"storeQuotaBytes", u.StoreQuotaBytes},
	} {
		if f.value < 0 {
			add("admin.uploads."+f.key, "%d is negative; use 0 for the default", f.value)
		}
	}
}
