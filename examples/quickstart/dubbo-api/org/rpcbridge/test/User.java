package org.rpcbridge.test;

import java.io.Serializable;
import java.math.BigDecimal;
import java.util.Date;
import java.util.List;
import java.util.Map;

/** A user of the greeter. */
public class User implements Serializable {
    private long id;
    /** The user's display name. */
    private String name;
    private BigDecimal balance;
    private Level level;
    private Date created;
    private List<String> tags;
    private Map<String, Integer> scores;
    private Address address;
}
