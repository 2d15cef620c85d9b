package org.lstmcast.cli;

import java.io.PrintWriter;
import java.nio.file.Path;
import java.util.Locale;

import org.lstmcast.export.Export;
import org.lstmcast.model.Proof;
import picocli.CommandLine;

/** Output shared by the commands that export. */
final class Reports {
    private Reports() {
    }

    /**
     * Exports and prints the proof; {@code quiet} keeps a successful export silent, while a failed proof is still
     * reported on stderr.
     */
    static Proof.Parity exportWithProof(CommandLine cl, Path modelZip, Path out, boolean quiet) throws Exception {
        PrintWriter o = cl.getOut();
        try {
            Proof.Parity p = Export.export(modelZip, out);
            if (quiet) {
                return p;
            }
            o.printf(Locale.ROOT, "Exported %s%n  proof: %d test windows, %d values compared (forecasts, and interval bounds where the model has them); max abs error %.3g, max rel error %.3g (limit %.0e)%n",
                    out, p.windows(), p.values(), p.maxAbsError(), p.maxRelError(), Proof.TOLERANCE);
            o.flush();
            return p;
        } catch (Proof.ParityException e) {
            Proof.Parity p = e.parity();
            cl.getErr().printf(Locale.ROOT, "%s: error: %s (max abs error %.3g)%n", cl.getCommandSpec().qualifiedName(),
                    e.getMessage(), p.maxAbsError());
            cl.getErr().flush();
            return p;
        }
    }
}
