package org.lstmcast.cli;

import java.io.PrintWriter;

import org.lstmcast.Version;
import org.lstmcast.forecast.OrtLibraries;
import picocli.CommandLine;
import picocli.CommandLine.Command;

/** {@code lstmcast}: the one program; each capability is a subcommand. */
@Command(name = "lstmcast",
        mixinStandardHelpOptions = true,
        versionProvider = Main.VersionProvider.class,
        description = "LSTM time-series forecasting: train with DL4J, export to ONNX, serve with ONNX Runtime.",
        subcommands = {TrainCommand.class, TrainManyCommand.class, TrainGlobalCommand.class, ExportCommand.class, ConvertCommand.class, InspectCommand.class, PredictCommand.class, PredictManyCommand.class, ServeCommand.class,
            BenchCommand.class,
            CommandLine.HelpCommand.class})
public final class Main implements Runnable {

    @CommandLine.Spec
    CommandLine.Model.CommandSpec spec;

    public static void main(String[] args) {
        OrtLibraries.preferUnpacked(Main.class);
        if (args.length > 0 && args[0].equals("serve")) {
            ServeCommand.initialiseInBackground();
        }
        int code;
        try {
            code = run(args);
        } catch (OutOfMemoryError e) {
            System.err.println("lstmcast: error: out of memory; give the JVM more with -Xmx, or use less data");
            code = CommandLine.ExitCode.SOFTWARE;
        } catch (Throwable e) {
            // picocli hands on Errors (a broken install, a native library that will not load): still one line.
            System.err.println("lstmcast: error: " + e);
            code = CommandLine.ExitCode.SOFTWARE;
        }
        System.exit(code);
    }

    /** Runs the program and returns its exit code: 0 success, 1 runtime failure, 2 usage error. */
    public static int run(String... args) {
        return commandLine().execute(args);
    }

    static CommandLine commandLine() {
        CommandLine cl = new CommandLine(new Main());
        cl.setExecutionExceptionHandler(new Errors());
        cl.setParameterExceptionHandler(Main::usageError);
        cl.setCaseInsensitiveEnumValuesAllowed(true);
        return cl;
    }

    @Override
    public void run() {
        // No subcommand: show what there is, as git does.
        throw new CommandLine.ParameterException(spec.commandLine(), "a command is required");
    }

    private static int usageError(CommandLine.ParameterException e, String[] args) {
        CommandLine cl = e.getCommandLine();
        PrintWriter err = cl.getErr();
        err.println(cl.getCommandName() + ": " + e.getMessage());
        if (cl.getCommandSpec().parent() == null) {
            cl.usage(err);
        } else {
            err.println("Try '" + cl.getCommandSpec().qualifiedName() + " --help' for the options.");
        }
        err.flush();
        return CommandLine.ExitCode.USAGE;
    }

    static final class VersionProvider implements CommandLine.IVersionProvider {
        @Override
        public String[] getVersion() {
            return new String[] {"lstmcast " + Version.get(),
                    "Java " + System.getProperty("java.version") + " (" + System.getProperty("java.vendor") + ")"};
        }
    }
}
