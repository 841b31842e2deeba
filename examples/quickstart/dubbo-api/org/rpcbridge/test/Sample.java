package org.rpcbridge.test;

import java.io.Serializable;
import java.math.BigDecimal;
import java.math.BigInteger;
import java.time.Instant;
import java.time.LocalDate;
import java.time.LocalDateTime;
import java.time.LocalTime;
import java.time.OffsetDateTime;
import java.util.Date;
import java.util.List;
import java.util.Map;
import java.util.Set;

/** One field of every Java type family the REST-to-Dubbo conversion handles. */
public class Sample implements Serializable {
    private boolean flag;
    private byte small;
    private short medium;
    private int count;
    private long big;
    private float ratio;
    private double precise;
    private char letter;
    private Integer boxedInt;
    private Long boxedLong;
    private Boolean boxedFlag;
    private Double boxedDouble;
    private BigInteger huge;
    private BigDecimal money;
    private Date when;
    private LocalDate day;
    private LocalTime clock;
    private LocalDateTime local;
    private Instant instant;
    private OffsetDateTime offset;
    private byte[] raw;
    private int[] counts;
    private String[] names;
    private Address[] places;
    private List<Address> addresses;
    private Set<String> labels;
    private Map<String, List<Integer>> matrix;
    private List<Level> levels;
}
