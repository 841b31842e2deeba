package org.rpcbridge.test;

public enum Level {
    GOLD,
    SILVER
}
