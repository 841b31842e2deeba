package com.example.user;

import com.example.user.model.Role;
import java.time.LocalDateTime;
import java.util.List;

/** A search request. */
public class UserQuery implements java.io.Serializable {
    private static final long serialVersionUID = 1L;

    private String name;
    private Role role;
    private List<String> orderBy;
    private LocalDateTime since;

    public String getName() {
        return name == null ? "" : name; // "}" inside a string
    }
}
