package org.rpcbridge.test;

import java.io.Serializable;

public class Address implements Serializable {
    private String street;
    private String city;
    private String zip;
}
