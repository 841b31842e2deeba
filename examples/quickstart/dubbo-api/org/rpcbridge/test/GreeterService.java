package org.rpcbridge.test;

import java.time.Duration;
import java.time.ZonedDateTime;

/**
 * The Java API of the quickstart's dubbo-go provider (internal/testpeers/dubbogo), version 1.0.0.
 */
public interface GreeterService {
    String sayHello(String name);

    String sayHello(String name, int times);

    User echoUser(User user);

    Sample echoSample(Sample sample);

    /** A Sample holding only the three arguments, so that a GET with them round-trips. */
    Sample window(ZonedDateTime zoned, Duration duration, java.sql.Date sqlDate);

    String fail(String message) throws GreeterException;

    String slow(int millis);
}
