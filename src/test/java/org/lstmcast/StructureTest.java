package org.lstmcast;

import static com.tngtech.archunit.library.dependencies.SlicesRuleDefinition.slices;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Set;
import java.util.TreeSet;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

import com.tngtech.archunit.core.domain.Dependency;
import com.tngtech.archunit.core.domain.JavaClass;
import com.tngtech.archunit.core.domain.JavaClasses;
import com.tngtech.archunit.core.importer.ClassFileImporter;
import com.tngtech.archunit.core.importer.ImportOption;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

/**
 * The packages' structure, read from the compiled classes: no package depends on itself through others, and the picture
 * in docs/STRUCTURE.md draws exactly the dependencies the code has.
 */
class StructureTest {
    private static final String ROOT = "org.lstmcast";
    /** The command line is the shell over every capability; the picture says so once instead of drawing each edge. */
    private static final String SHELL = "cli";
    /** Mermaid ids hold no dots: package serve.rest is drawn as node serve_rest. */
    private static final Pattern EDGE = Pattern.compile("^\\s*(\\w+)\\s*-->\\s*(\\w+)\\s*$");
    private static final Pattern NODE = Pattern.compile("^\\s*(\\w+)(?:\\[[^\\]]*\\])?\\s*$");

    private static JavaClasses classes;

    @BeforeAll
    static void read() {
        classes = new ClassFileImporter().withImportOption(ImportOption.Predefined.DO_NOT_INCLUDE_TESTS).importPackages(ROOT);
    }

    @Test
    void noPackageCycles() {
        slices().matching(ROOT + ".(**)").should().beFreeOfCycles().check(classes);
    }

    @Test
    void thePictureDrawsThePackagesAndTheirDependencies() throws IOException {
        Set<String> packages = new TreeSet<>();
        Set<String> edges = new TreeSet<>();
        for (JavaClass c : classes) {
            String from = relative(c.getPackageName());
            if (from == null) {
                continue;
            }
            packages.add(from);
            for (Dependency d : c.getDirectDependenciesFromSelf()) {
                String to = relative(d.getTargetClass().getPackageName());
                if (to != null && !to.equals(from) && !from.equals(SHELL)) {
                    edges.add(from + " --> " + to);
                }
            }
        }
        Set<String> drawnNodes = new TreeSet<>();
        Set<String> drawnEdges = new TreeSet<>();
        String doc = Files.readString(Path.of("docs/STRUCTURE.md"));
        Matcher block = Pattern.compile("```mermaid\\n(.*?)```", Pattern.DOTALL).matcher(doc);
        assertTrue(block.find(), "docs/STRUCTURE.md holds a mermaid picture");
        for (String line : block.group(1).split("\n")) {
            Matcher e = EDGE.matcher(line);
            Matcher n = NODE.matcher(line);
            if (e.matches()) {
                drawnEdges.add(pkg(e.group(1)) + " --> " + pkg(e.group(2)));
                drawnNodes.add(pkg(e.group(1)));
                drawnNodes.add(pkg(e.group(2)));
            } else if (n.matches() && !line.trim().startsWith("flowchart")) {
                drawnNodes.add(pkg(n.group(1)));
            }
        }
        String expected = "flowchart LR\n"
                + String.join("\n", packages.stream().map(p -> "  " + p.replace('.', '_') + "[" + p + "]").toList()) + "\n"
                + String.join("\n", edges.stream().map(e -> "  " + e.replace('.', '_')).toList());
        assertEquals(packages, drawnNodes, "the picture's packages; the code's picture is:\n" + expected);
        assertEquals(edges, drawnEdges, "the picture's dependencies; the code's picture is:\n" + expected);
    }

    private static String pkg(String id) {
        return id.replace('_', '.');
    }

    /** The package below org.lstmcast ("serve.rest"), or null for the root package and the generated protocol code. */
    private static String relative(String pkg) {
        if (!pkg.startsWith(ROOT + ".") || pkg.startsWith(ROOT + ".grpc.proto")) {
            return null;
        }
        return pkg.substring(ROOT.length() + 1);
    }
}
