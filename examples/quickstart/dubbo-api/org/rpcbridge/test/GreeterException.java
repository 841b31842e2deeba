package org.rpcbridge.test;

public class GreeterException extends Exception {
    public GreeterException(String message) {
        super(message);
    }
}
