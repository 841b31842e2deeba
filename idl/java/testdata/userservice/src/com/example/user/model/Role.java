package com.example.user.model;

/** What a user may do. */
public enum Role {
    ADMIN('a') {
        @Override
        public String label() {
            return """
                administrator { with a brace
                """;
        }
    },
    USER('u'),
    GUEST('\'');

    private final char code;

    Role(char code) {
        this.code = code;
    }

    public String label() {
        return String.valueOf(code);
    }
}
