package com.example.user.model;

import java.io.Serializable;
import java.math.BigDecimal;
import java.time.LocalDateTime;
import java.util.ArrayList;
import java.util.Date;
import java.util.List;
import java.util.Map;
import java.util.Set;

/** A user. */
public class User implements Serializable {
    private static final long serialVersionUID = 42L;

    /** The user's id. */
    private long id;
    private String name;
    private Role role;
    private Set<String> tags;
    private Map<String, Object> attributes;
    private Address address;
    private List<Address> previous = new ArrayList<>();
    private BigDecimal balance;
    private Date createdAt;
    private LocalDateTime updatedAt;
    private transient String cache;
    private byte[] avatar;

    public User() {
    }

    public long getId() {
        return id;
    }

    /** A postal address. */
    public static class Address implements Serializable {
        private String city;
        private String street;
        private int zip;
    }
}
