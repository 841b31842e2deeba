package org.rpcbridge.test;

/**
 * The Java API of the quickstart's dubbo-go provider (internal/testpeers/dubbogo), version 1.0.0.
 */
public interface GreeterService {
    String sayHello(String name);

    String sayHello(String name, int times);

    User echoUser(User user);

    Sample echoSample(Sample sample);

    String fail(String message) throws GreeterException;

    String slow(int millis);
}
