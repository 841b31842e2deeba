package org.rpcbridge.test;

/**
 * The Java API of the quickstart's dubbo-go provider (internal/testpeers/dubbogo), version 1.0.0.
 */
public interface GreeterService {
    String sayHello(String name);

    /**
     * Greets {@code name} several times in one answer.
     *
     * @param name  who is greeted
     * @param times how many greetings, one after the other
     * @return the greetings, separated by spaces
     */
    String sayHello(String name, int times);

    User echoUser(User user);

    Sample echoSample(Sample sample);

    String fail(String message) throws GreeterException;

    String slow(int millis);

    /** The attachments the call carried: which request headers reached the provider. */
    java.util.Map<String, String> attachments();
}
