/*
 * The golden API: the same service in four forms (this source, the jar compiled from it, the
 * service definition a Java provider writes to the metadata center, and declarative YAML).
 * A stray "}" { in a comment must not confuse the parser.
 */
package com.example.user;

import java.math.BigDecimal;
import java.time.LocalDateTime;
import java.util.*;
import static java.util.Collections.emptyList;

import com.example.user.model.Page;
import com.example.user.model.Role;
import com.example.user.model.User;

/** Looks up and manages users. */
@SuppressWarnings({"unused", "rawtypes"})
public interface UserService {
    // Overloads: the same name with different parameter types.
    /**
     * Finds a user by {@code id}.
     *
     * @param id the user's id
     * @return the user, or null
     */
    User find(long id);

    User find(String name);

    Page<User> search(UserQuery query, int page, int size);

    List<User> findAll(Set<Long> ids);

    Map<String, List<User>> groupByRole(@Deprecated(since = "1.2") Role... roles);

    void rename(final long id, String newName);

    int[] scores(long[] ids);

    String[][] matrix();

    BigDecimal balance(long id, Date at);

    LocalDateTime lastLogin(long id);

    User.Address address(long id);

    Map<String, ? extends Collection<Integer>> counts(List<? super Integer> seed);
}
