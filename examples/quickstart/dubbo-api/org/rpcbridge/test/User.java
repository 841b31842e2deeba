package org.rpcbridge.test;

import java.io.Serializable;
import java.math.BigDecimal;
import java.util.Date;
import java.util.List;
import java.util.Map;

public class User implements Serializable {
    private long id;
    private String name;
    private BigDecimal balance;
    private Level level;
    private Date created;
    private List<String> tags;
    private Map<String, Integer> scores;
    private Address address;
}
