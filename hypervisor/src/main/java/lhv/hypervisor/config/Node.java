package lhv.hypervisor.config;

import java.util.ArrayList;
import java.util.Collections;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/**
 * A configuration value with the position it was read at. Jackson's own tree (JsonNode) drops
 * locations, so the loader builds this small tree from the streaming parser instead; every config
 * error can then name the line and column of the offending value.
 *
 * <p>Context: Java host, configuration loading.
 */
public sealed interface Node {
    Position position();

    /** What the value is, for error messages ("a list", "a number"...). */
    String kind();

    record Scalar(Position position, Object value) implements Node {
        public String text() {
            return String.valueOf(value);
        }

        public String kind() {
            return value instanceof String ? "a string" : value instanceof Boolean ? "a boolean"
                    : value == null ? "null" : "a number";
        }
    }

    record Sequence(Position position, List<Node> items) implements Node {
        public Sequence {
            items = Collections.unmodifiableList(new ArrayList<>(items));
        }

        public String kind() {
            return "a list";
        }
    }

    /** A mapping; keys keep their own positions so an unknown key can be pointed at. */
    record Mapping(Position position, Map<String, Node> entries, Map<String, Position> keyPositions) implements Node {
        public Mapping {
            entries = Collections.unmodifiableMap(new LinkedHashMap<>(entries));
            keyPositions = Collections.unmodifiableMap(new LinkedHashMap<>(keyPositions));
        }

        public String kind() {
            return "a mapping";
        }

        public Node get(String key) {
            return entries.get(key);
        }
    }
}
