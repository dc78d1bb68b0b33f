package content

import "strings"

// Languages GuessLanguage may return.
const (
	LangGo         = "go"
	LangPython     = "python"
	LangJava       = "java"
	LangKotlin     = "kotlin"
	LangJavaScript = "javascript"
	LangTypeScript = "typescript"
	LangC          = "c"
	LangCPP        = "cpp"
	LangCSharp     = "csharp"
	LangRust       = "rust"
	LangSQL        = "sql"
	LangHCL        = "hcl" // Terraform
	LangKubernetes = "kubernetes"
	LangYAML       = "yaml"
	LangShell      = "shell"
	LangPHP        = "php"
	LangRuby       = "ruby"
	LangDotenv     = "dotenv"
)

// cue is a piece of syntax that votes for a language: at the start of a (trimmed) line, or
// anywhere in it.
type cue struct {
	lang   string
	s      string
	start  bool // must begin the line
	weight int
}

var cues = []cue{
	{LangGo, "package ", true, 3}, {LangGo, "func ", true, 4}, {LangGo, ":= ", false, 2}, {LangGo, "fmt.", false, 2},
	{LangGo, "err != nil", false, 4}, {LangGo, "import (", true, 3}, {LangGo, "defer ", true, 3}, {LangGo, "go func", false, 3},
	{LangGo, "chan ", false, 2}, {LangGo, "} else {", false, 1}, {LangGo, "[]string", false, 2}, {LangGo, "map[", false, 2},

	{LangPython, "def ", true, 3}, {LangPython, "elif ", true, 4}, {LangPython, "self.", false, 2}, {LangPython, "__init__", false, 4},
	{LangPython, "print(", true, 1}, {LangPython, "import ", true, 1}, {LangPython, "except ", true, 3}, {LangPython, "None", false, 1},
	{LangPython, "with open(", false, 3}, {LangPython, "lambda ", false, 1}, {LangPython, "    return ", true, 0},
	{LangPython, "if __name__", true, 5}, {LangPython, "raise ", true, 2}, {LangPython, "True", false, 1}, {LangPython, "f\"", false, 1},

	{LangJava, "public class ", false, 3}, {LangJava, "System.out.", false, 4}, {LangJava, "@Override", true, 2},
	{LangJava, "import java.", true, 5}, {LangJava, "private final ", false, 2}, {LangJava, "public static void main", false, 5},
	{LangJava, "String[]", false, 2}, {LangJava, "new ArrayList", false, 3}, {LangJava, "throws ", false, 2},
	{LangJava, "private static ", false, 2}, {LangJava, "@Autowired", true, 4},

	{LangKotlin, "fun ", true, 4}, {LangKotlin, "val ", true, 2}, {LangKotlin, "import kotlin", true, 5},
	{LangKotlin, "data class ", false, 4}, {LangKotlin, "println(", false, 1}, {LangKotlin, "suspend fun", false, 5},
	{LangKotlin, "companion object", false, 5}, {LangKotlin, "?.let", false, 3},

	{LangJavaScript, "const ", true, 2}, {LangJavaScript, "let ", true, 2}, {LangJavaScript, "function ", false, 2},
	{LangJavaScript, "=> ", false, 2}, {LangJavaScript, "console.log", false, 4}, {LangJavaScript, "require(", false, 3},
	{LangJavaScript, "module.exports", false, 5}, {LangJavaScript, "export default", true, 2}, {LangJavaScript, "document.", false, 3},
	{LangJavaScript, "===", false, 2}, {LangJavaScript, "async ", false, 1}, {LangJavaScript, "await ", false, 1},
	{LangJavaScript, "import React", true, 4}, {LangJavaScript, "useState(", false, 3},

	{LangTypeScript, ": string", false, 3}, {LangTypeScript, ": number", false, 3}, {LangTypeScript, ": boolean", false, 3},
	{LangTypeScript, "interface ", true, 2}, {LangTypeScript, "export interface ", true, 4}, {LangTypeScript, "import type ", true, 5},
	{LangTypeScript, "export type ", true, 4}, {LangTypeScript, " as const", false, 3}, {LangTypeScript, "React.FC", false, 4},
	{LangTypeScript, ": Promise<", false, 4}, {LangTypeScript, "[]) =>", false, 2}, {LangTypeScript, "number[]", false, 3},

	{LangC, "#include <", true, 3}, {LangC, "int main(", false, 4}, {LangC, "printf(", false, 2}, {LangC, "malloc(", false, 4},
	{LangC, "->", false, 1}, {LangC, "NULL", false, 2}, {LangC, "sizeof(", false, 2}, {LangC, "#define ", true, 3},
	{LangC, "void ", true, 2}, {LangC, "char *", false, 3}, {LangC, "struct ", true, 2},

	{LangCPP, "std::", false, 4}, {LangCPP, "#include <iostream>", true, 6}, {LangCPP, "cout <<", false, 4},
	{LangCPP, "nullptr", false, 4}, {LangCPP, "template<", false, 4}, {LangCPP, "template <", false, 4},
	{LangCPP, "namespace ", true, 2}, {LangCPP, "auto ", false, 1}, {LangCPP, "#include <vector>", true, 5},
	{LangCPP, "public:", true, 3}, {LangCPP, "private:", true, 3},

	{LangCSharp, "using System", true, 5}, {LangCSharp, "Console.WriteLine", false, 5}, {LangCSharp, "public async Task", false, 5},
	{LangCSharp, "{ get; set; }", false, 5}, {LangCSharp, "namespace ", true, 1}, {LangCSharp, "var ", true, 1},

	{LangRust, "fn ", true, 3}, {LangRust, "let mut ", false, 5}, {LangRust, "impl ", true, 4}, {LangRust, "pub fn ", false, 4},
	{LangRust, "println!(", false, 5}, {LangRust, "use std::", true, 5}, {LangRust, "-> Result<", false, 4},
	{LangRust, "&str", false, 3}, {LangRust, "unwrap()", false, 3}, {LangRust, "#[derive(", true, 5}, {LangRust, "match ", true, 1},

	{LangSQL, "SELECT ", true, 4}, {LangSQL, "select ", true, 2}, {LangSQL, "FROM ", true, 3}, {LangSQL, " FROM ", false, 2},
	{LangSQL, "WHERE ", true, 3}, {LangSQL, "INSERT INTO", false, 5}, {LangSQL, "insert into", false, 4}, {LangSQL, "CREATE TABLE", false, 5},
	{LangSQL, "create table", false, 4}, {LangSQL, "JOIN ", false, 3}, {LangSQL, "GROUP BY", false, 4}, {LangSQL, "ORDER BY", false, 4},
	{LangSQL, "UPDATE ", true, 3}, {LangSQL, "DELETE FROM", false, 5}, {LangSQL, "ALTER TABLE", false, 5}, {LangSQL, "PRIMARY KEY", false, 4},
	{LangSQL, "VARCHAR", false, 4}, {LangSQL, "LEFT JOIN", false, 4}, {LangSQL, " AND ", false, 1}, {LangSQL, "LIMIT ", true, 3},

	{LangHCL, "resource \"", true, 6}, {LangHCL, "variable \"", true, 6}, {LangHCL, "provider \"", true, 6},
	{LangHCL, "module \"", true, 6}, {LangHCL, "output \"", true, 5}, {LangHCL, "data \"", true, 5}, {LangHCL, "terraform {", true, 6},
	{LangHCL, "${var.", false, 4}, {LangHCL, "var.", false, 1}, {LangHCL, "locals {", true, 5}, {LangHCL, "source  = \"", false, 2},

	{LangKubernetes, "apiVersion:", true, 6}, {LangKubernetes, "kind:", true, 3}, {LangKubernetes, "containers:", true, 4},
	{LangKubernetes, "metadata:", true, 2}, {LangKubernetes, "spec:", true, 2}, {LangKubernetes, "replicas:", true, 3},
	{LangKubernetes, "containerPort:", true, 4}, {LangKubernetes, "secretKeyRef:", true, 4},

	{LangYAML, "- name:", true, 1}, {LangYAML, "---", true, 1},

	{LangShell, "#!/bin/bash", true, 8}, {LangShell, "#!/bin/sh", true, 8}, {LangShell, "#!/usr/bin/env bash", true, 8},
	{LangShell, "#!/usr/bin/env sh", true, 8}, {LangShell, "echo ", true, 2}, {LangShell, "export ", true, 2}, {LangShell, "sudo ", true, 3},
	{LangShell, "apt-get ", false, 3}, {LangShell, "fi", true, 1}, {LangShell, "done", true, 1}, {LangShell, "$(", false, 2},
	{LangShell, "| grep", false, 3}, {LangShell, "$ ", true, 3}, {LangShell, "set -e", true, 4}, {LangShell, "then", true, 1},
	{LangShell, "curl ", true, 2}, {LangShell, "kubectl ", true, 3}, {LangShell, "docker ", true, 3}, {LangShell, "git ", true, 2},
	{LangShell, "npm ", true, 2}, {LangShell, "pip install", true, 3}, {LangShell, "cd ", true, 2}, {LangShell, "${", false, 1},

	{LangPHP, "<?php", true, 8}, {LangPHP, "$this->", false, 4}, {LangPHP, "echo $", false, 2}, {LangPHP, "function __construct", false, 4},

	{LangRuby, "puts ", true, 3}, {LangRuby, "require '", true, 2}, {LangRuby, ".each do |", false, 5}, {LangRuby, "end", true, 1},
	{LangRuby, "attr_accessor", false, 5}, {LangRuby, "def initialize", true, 4},
}

// GuessLanguage names the programming or configuration language of a block of code (the span of
// a code.source finding): one of the Lang constants, or "" when no language stands out. It reads
// at most the first 64 KiB. A Markdown fence's tag wins when it names a language.
func GuessLanguage(code string) string {
	if len(code) > 64<<10 {
		code = code[:64<<10]
	}
	if t := strings.TrimSpace(code); strings.HasPrefix(t, "```") || strings.HasPrefix(t, "~~~") {
		line, _, _ := strings.Cut(t, "\n")
		if l := tagLanguage(fenceTag(line)); l != "" {
			return l
		}
	}
	score := map[string]int{}
	yamlLines, envLines := 0, 0
	for line := range strings.Lines(code) {
		t := strings.TrimSpace(line)
		if t == "" {
			continue
		}
		for _, c := range cues {
			if c.start && strings.HasPrefix(t, c.s) || !c.start && strings.Contains(t, c.s) {
				score[c.lang] += c.weight
			}
		}
		if yamlKey(t) {
			yamlLines++
		}
		if w := strings.IndexByte(t, '='); w > 1 && isEnvName(t[:w]) {
			envLines++
		}
	}
	// Related languages share evidence: TypeScript is JavaScript with types, C++ builds on C,
	// Kubernetes manifests are YAML.
	if score[LangTypeScript] >= 3 {
		score[LangTypeScript] += score[LangJavaScript]
	}
	if score[LangCPP] >= 4 {
		score[LangCPP] += score[LangC]
	}
	score[LangYAML] += yamlLines
	if score[LangKubernetes] >= 6 {
		score[LangKubernetes] += yamlLines
	}
	if envLines >= 3 {
		score[LangDotenv] += 2 * envLines
	}
	best, bestScore := "", 2
	for _, l := range []string{LangKubernetes, LangHCL, LangSQL, LangGo, LangPython, LangTypeScript, LangJavaScript,
		LangKotlin, LangJava, LangCPP, LangCSharp, LangC, LangRust, LangPHP, LangRuby, LangShell, LangDotenv, LangYAML} {
		if score[l] > bestScore {
			best, bestScore = l, score[l]
		}
	}
	return best
}

func tagLanguage(tag string) string {
	switch lower(tag) {
	case "go", "golang":
		return LangGo
	case "python", "py", "python3":
		return LangPython
	case "java":
		return LangJava
	case "kotlin", "kt", "kts":
		return LangKotlin
	case "js", "javascript", "jsx", "mjs":
		return LangJavaScript
	case "ts", "typescript", "tsx":
		return LangTypeScript
	case "c", "h":
		return LangC
	case "cpp", "c++", "cc", "hpp", "cxx":
		return LangCPP
	case "cs", "csharp", "c#":
		return LangCSharp
	case "rust", "rs":
		return LangRust
	case "sql", "postgresql", "psql", "mysql", "plsql", "tsql":
		return LangSQL
	case "hcl", "terraform", "tf":
		return LangHCL
	case "yaml", "yml":
		return LangYAML
	case "sh", "bash", "zsh", "shell", "console", "shell-session":
		return LangShell
	case "php":
		return LangPHP
	case "ruby", "rb":
		return LangRuby
	case "env", "dotenv":
		return LangDotenv
	}
	return ""
}
