package org.lstmcast.spark;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Comparator;
import java.util.List;

import org.apache.parquet.example.data.Group;
import org.apache.parquet.example.data.simple.SimpleGroupFactory;
import org.apache.parquet.hadoop.ParquetFileWriter;
import org.apache.parquet.hadoop.ParquetWriter;
import org.apache.parquet.hadoop.example.ExampleParquetWriter;
import org.apache.parquet.hadoop.metadata.CompressionCodecName;
import org.apache.parquet.io.LocalOutputFile;
import org.apache.parquet.schema.LogicalTypeAnnotation;
import org.apache.parquet.schema.MessageType;
import org.apache.parquet.schema.PrimitiveType.PrimitiveTypeName;
import org.apache.parquet.schema.Types;

/**
 * A small table the driver writes as one Parquet file with Parquet's own writer (the library Spark writes with):
 * Spark SQL's writer would spend seconds of a cold start on its planner for a few hundred rows, and write a folder.
 */
final class ParquetTables {
    enum Kind { STRING, LONG, INT, DOUBLE }

    record Column(String name, Kind kind) {
    }

    private ParquetTables() {
    }

    /** Writes {@code rows} (values in column order; null for none) to {@code file}, replacing it. */
    static void write(Path file, String table, List<Column> columns, List<List<Object>> rows) throws IOException {
        Types.MessageTypeBuilder builder = Types.buildMessage();
        for (Column c : columns) {
            switch (c.kind()) {
                case STRING -> builder.optional(PrimitiveTypeName.BINARY).as(LogicalTypeAnnotation.stringType()).named(c.name());
                case LONG -> builder.optional(PrimitiveTypeName.INT64).named(c.name());
                case INT -> builder.optional(PrimitiveTypeName.INT32).named(c.name());
                case DOUBLE -> builder.optional(PrimitiveTypeName.DOUBLE).named(c.name());
                default -> throw new IllegalArgumentException(c.kind().toString());
            }
        }
        MessageType schema = builder.named(table);
        Path absolute = file.toAbsolutePath();
        Files.createDirectories(absolute.getParent());
        if (Files.isDirectory(absolute)) {
            // A folder of part files from an earlier writer of the same name.
            try (var walk = Files.walk(absolute)) {
                for (Path p : walk.sorted(Comparator.reverseOrder()).toList()) {
                    Files.delete(p);
                }
            }
        }
        SimpleGroupFactory groups = new SimpleGroupFactory(schema);
        try (ParquetWriter<Group> writer = ExampleParquetWriter.builder(new LocalOutputFile(absolute))
                .withType(schema)
                .withCompressionCodec(CompressionCodecName.SNAPPY)
                .withWriteMode(ParquetFileWriter.Mode.OVERWRITE)
                .build()) {
            for (List<Object> row : rows) {
                Group g = groups.newGroup();
                for (int i = 0; i < columns.size(); i++) {
                    Object v = row.get(i);
                    if (v == null) {
                        continue;
                    }
                    String name = columns.get(i).name();
                    switch (columns.get(i).kind()) {
                        case STRING -> g.add(name, v.toString());
                        case LONG -> g.add(name, ((Number) v).longValue());
                        case INT -> g.add(name, ((Number) v).intValue());
                        case DOUBLE -> g.add(name, ((Number) v).doubleValue());
                        default -> throw new IllegalArgumentException(columns.get(i).kind().toString());
                    }
                }
                writer.write(g);
            }
        }
    }
}
