#!/usr/bin/env python3
# SPDX-License-Identifier: MIT
"""Rejects `check` calls that cannot fail, or whose failure does not count.

lib.sh's `check "what" CMD...` runs CMD and records ok or FAIL. Two shapes escape it:

  check "x in under 1.5 s" [ "$rc" -eq 0 ] && [ "$ms" -lt 1500 ]
      the shell runs `check ... ]` first; what follows && (or ||, or a pipe) is outside check,
      so its failure only changes the line's $?, and the test goes on green;
  check "x" true   /   check "x" :
      asserts nothing, whatever its label says.

Usage: lint_checks.py FILE...   prints FILE:LINE: reason for each, exits 1 if any.

The scan is a small shell tokenizer: quotes, $(...), ${...}, backquotes, comments, here-documents
and backslash-newline continuations are understood, so an && inside a quoted `bash -c "..."` or
a check spread over several lines is read as the shell reads it."""
import sys

# words after which the next word is in command position
KEYWORDS = {"then", "do", "else", "elif", "if", "while", "until", "!", "{", "time"}
OPERATORS = ("&&", "||", ";;", "|&", ";", "|", "&", "(", ")", "\n")


class Lexer:
    def __init__(self, text):
        self.s, self.i, self.line = text, 0, 1
        self.heredocs = []  # (delimiter, strip_tabs) pending until the end of the line

    def peek(self, k=0):
        j = self.i + k
        return self.s[j] if j < len(self.s) else ""

    def adv(self, n=1):
        for _ in range(n):
            if self.i < len(self.s):
                if self.s[self.i] == "\n":
                    self.line += 1
                self.i += 1

    def skip_single(self):  # after the opening '
        while self.peek() and self.peek() != "'":
            self.adv()
        self.adv()

    def skip_double(self):  # after the opening "
        while self.peek() and self.peek() != '"':
            c = self.peek()
            if c == "\\":
                self.adv(2)
            elif c == "$" and self.peek(1) in "({":
                self.skip_dollar()
            elif c == "`":
                self.adv()
                self.skip_backquote()
            else:
                self.adv()
        self.adv()

    def skip_backquote(self):  # after the opening `
        while self.peek() and self.peek() != "`":
            self.adv(2 if self.peek() == "\\" else 1)
        self.adv()

    def skip_dollar(self):  # at $( or ${: to the matching close, quotes respected
        close = ")" if self.peek(1) == "(" else "}"
        opener = self.peek(1)
        self.adv(2)
        depth = 1
        while self.peek() and depth:
            c = self.peek()
            if c == "\\":
                self.adv(2)
                continue
            if c == "'" and close == ")":
                self.adv()
                self.skip_single()
                continue
            if c == '"':
                self.adv()
                self.skip_double()
                continue
            if c == "$" and self.peek(1) in "({":
                self.skip_dollar()
                continue
            if c == opener:
                depth += 1
            elif c == close:
                depth -= 1
            self.adv()

    def read_heredocs(self):  # at the start of the line after a << redirection
        for delim, strip in self.heredocs:
            while self.peek():
                end = self.s.find("\n", self.i)
                end = len(self.s) if end < 0 else end
                body = self.s[self.i:end]
                self.adv(end - self.i + 1)
                if (body.lstrip("\t") if strip else body) == delim:
                    break
        self.heredocs = []

    def word(self):  # at a word's first character; returns its text (quotes kept)
        start = self.i
        while self.peek():
            c = self.peek()
            if c in " \t\n;&|()<>":
                break
            if c == "\\":
                if self.peek(1) == "\n":
                    break
                self.adv(2)
            elif c == "'":
                self.adv()
                self.skip_single()
            elif c == '"':
                self.adv()
                self.skip_double()
            elif c == "`":
                self.adv()
                self.skip_backquote()
            elif c == "$" and self.peek(1) in "({":
                self.skip_dollar()
            else:
                self.adv()
        return self.s[start:self.i]

    def tokens(self):
        """(kind, text, line): kind 'w' for a word, 'op' for an operator, 'redir' for one."""
        while self.i < len(self.s):
            c = self.peek()
            if c in " \t":
                self.adv()
            elif c == "\\" and self.peek(1) == "\n":  # continuation: the line goes on
                self.adv(2)
            elif c == "#":
                while self.peek() and self.peek() != "\n":
                    self.adv()
            elif c == "\n":
                yield ("op", "\n", self.line)
                self.adv()
                if self.heredocs:
                    self.read_heredocs()
            elif c in "<>" and self.peek(1) == "(":  # process substitution: one word
                line = self.line
                self.skip_dollar()
                yield ("w", "<(...)", line)
            elif c in "<>":
                line, j = self.line, self.i
                while self.peek() in "<>&-" and self.peek():
                    self.adv()
                op = self.s[j:self.i]
                if op in ("<<", "<<-"):
                    while self.peek() in " \t":
                        self.adv()
                    delim = self.word()
                    self.heredocs.append((delim.replace("'", "").replace('"', "").replace("\\", ""),
                                          op == "<<-"))
                yield ("redir", op, line)
            else:
                for op in OPERATORS:
                    if self.s.startswith(op, self.i):
                        yield ("op", op, self.line)
                        self.adv(len(op))
                        break
                else:
                    line = self.line
                    yield ("w", self.word(), line)


def lint(path):
    text = open(path, encoding="utf-8", errors="replace").read()
    found = []
    toks = list(Lexer(text).tokens())
    cmd_pos = True
    i = 0
    while i < len(toks):
        kind, text_, line = toks[i]
        if kind == "op":
            cmd_pos = True
            i += 1
            continue
        if kind == "w" and cmd_pos and text_ == "check" and \
                not (i + 1 < len(toks) and toks[i + 1][1] == "("):  # not check() { ... }
            words, j = [], i + 1
            while j < len(toks) and toks[j][0] != "op":
                if toks[j][0] == "w":
                    words.append(toks[j][1])
                else:  # a redirection's target is not an argument
                    j += 1
                j += 1
            after = toks[j][1] if j < len(toks) else "\n"
            if len(words) == 2 and words[1] in ("true", ":"):
                found.append((line, "check %s %s asserts nothing" % (words[0], words[1])))
            elif len(words) < 2:
                found.append((line, "check without a command"))
            if after in ("&&", "||", "|", "|&"):
                found.append((line, "'%s' after check's command: what follows is outside the check "
                                    "(wrap the whole condition, e.g. bash -c \"A && B\")" % after))
            i = j
            continue
        cmd_pos = kind == "w" and text_ in KEYWORDS
        i += 1
    return found


def main(paths):
    bad = 0
    for path in paths:
        for line, why in lint(path):
            print("%s:%d: %s" % (path, line, why))
            bad += 1
    return 1 if bad else 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
