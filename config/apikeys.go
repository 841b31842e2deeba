package config

// APIKeysPrefix is the store prefix of the API key sets that policies read with
// keys: {store: NAME}: a set is kept at APIKeysPrefix+NAME, hashed only (written by PUT
// /api/v1/apikeys/NAME and `rpcbridge apikeys push`), and every replica follows the prefix.
const APIKeysPrefix = "apikeys/"
