package org.lstmcast.cli;

import java.io.IOException;
import java.nio.file.AccessDeniedException;
import java.nio.file.Files;
import java.nio.file.NoSuchFileException;
import java.nio.file.Path;

import org.lstmcast.data.DataException;
import org.lstmcast.forecast.InvalidInputException;
import org.lstmcast.model.ConversionException;
import picocli.CommandLine;

/**
 * Turns a failure inside a command into one line on stderr and exit code 1. Users get the reason, not a stack
 * trace; set {@code LSTMCAST_DEBUG=1} to see the trace when reporting a bug.
 */
final class Errors implements CommandLine.IExecutionExceptionHandler {

    @Override
    public int handleExecutionException(Exception e, CommandLine cl, CommandLine.ParseResult parsed) {
        if (e instanceof CommandLine.ParameterException pe) {
            throw pe;
        }
        String message;
        if (e instanceof DataException || e instanceof InvalidInputException || e instanceof IllegalArgumentException
                || e instanceof ConversionException
                || e instanceof IllegalStateException) {
            message = e.getMessage();
        } else if (e instanceof NoSuchFileException f) {
            // The JDK's message is the bare path; say what is wrong with it, as the commands' own checks do.
            Path parent = Path.of(f.getFile()).toAbsolutePath().getParent();
            message = parent != null && !Files.isDirectory(parent)
                    ? f.getFile() + ": no such folder " + parent : f.getFile() + ": no such file";
        } else if (e instanceof AccessDeniedException f) {
            message = f.getFile() + ": permission denied";
        } else if (e instanceof IOException) {
            message = "I/O error: " + e.getMessage();
        } else {
            message = "unexpected " + e.getClass().getSimpleName() + ": " + e.getMessage();
        }
        cl.getErr().println(cl.getCommandSpec().qualifiedName() + ": error: " + message);
        if (System.getenv("LSTMCAST_DEBUG") != null) {
            e.printStackTrace(cl.getErr());
        }
        cl.getErr().flush();
        return CommandLine.ExitCode.SOFTWARE;
    }
}
