package com.example.user.model;

import java.io.Serializable;
import java.util.List;

/** One page of results. */
public class Page<T> implements Serializable {
    private List<T> items;
    private long total;
    private int page;

    public <R> Page<R> map(java.util.function.Function<? super T, ? extends R> f) {
        return null;
    }
}
