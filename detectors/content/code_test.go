package content

import (
	"strings"
	"testing"
)

var codeSamples = []struct {
	lang, code string
}{
	{LangGo, `package main

import (
	"fmt"
	"os"
)

func main() {
	f, err := os.Open("config.yaml")
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		os.Exit(1)
	}
	defer f.Close()
}`},
	{LangPython, `import os
from pathlib import Path

class Loader:
    def __init__(self, root):
        self.root = Path(root)

    def load(self, name):
        with open(self.root / name) as f:
            return f.read()

if __name__ == "__main__":
    print(Loader(os.getcwd()).load("x.txt"))`},
	{LangJava, `import java.util.List;
import java.util.ArrayList;

public class OrderService {
    private final OrderRepository repo;

    @Override
    public List<Order> findAll() {
        List<Order> out = new ArrayList<>();
        repo.findAll().forEach(out::add);
        return out;
    }
}`},
	{LangKotlin, `package com.acme.orders

import kotlinx.coroutines.flow.Flow

data class Order(val id: Long, val total: Double)

class OrderRepo(private val db: Database) {
    suspend fun find(id: Long): Order? {
        val row = db.query("select * from orders where id = ?", id)
        return row?.let { Order(it.long("id"), it.double("total")) }
    }
}`},
	{LangJavaScript, `const express = require('express');
const app = express();

app.get('/users/:id', async (req, res) => {
  const user = await db.users.findById(req.params.id);
  if (!user) {
    return res.status(404).json({ error: 'not found' });
  }
  res.json(user);
});

module.exports = app;`},
	{LangTypeScript, `import type { Request, Response } from "express";

export interface User {
  id: string;
  email: string;
  age: number;
}

export async function getUser(req: Request, res: Response): Promise<void> {
  const user: User = await repo.find(req.params.id);
  res.json(user);
}`},
	{LangC, `#include <stdio.h>
#include <stdlib.h>

int main(int argc, char **argv) {
    char *buf = malloc(1024);
    if (buf == NULL) {
        return 1;
    }
    printf("%s\n", argv[0]);
    free(buf);
    return 0;
}`},
	{LangCPP, `#include <iostream>
#include <vector>

template <typename T>
T sum(const std::vector<T>& xs) {
    T total{};
    for (const auto& x : xs) {
        total += x;
    }
    return total;
}

int main() {
    std::cout << sum(std::vector<int>{1, 2, 3}) << std::endl;
}`},
	{LangSQL, `CREATE TABLE customers (
    id BIGINT PRIMARY KEY,
    email VARCHAR(255) NOT NULL,
    created_at TIMESTAMP DEFAULT now()
);

INSERT INTO customers (id, email) VALUES (1, 'a@b.io');

SELECT id, email FROM customers WHERE created_at > now() - interval '7 days' ORDER BY id;`},
	{LangHCL, `terraform {
  required_providers {
    aws = {
      source  = "hashicorp/aws"
      version = "~> 5.0"
    }
  }
}

variable "region" {
  default = "eu-west-1"
}

resource "aws_db_instance" "main" {
  engine         = "postgres"
  instance_class = "db.t3.micro"
  password       = var.db_password
}`},
	{LangKubernetes, `apiVersion: v1
kind: Secret
metadata:
  name: db-credentials
  namespace: payments
type: Opaque
stringData:
  username: app
  password: s3cr3t-pa55
---
apiVersion: apps/v1
kind: Deployment
metadata:
  name: api
spec:
  replicas: 2`},
	{LangShell, `#!/bin/bash
set -euo pipefail

export AWS_REGION=eu-west-1
for f in ./migrations/*.sql; do
  echo "applying $f"
  psql "$DATABASE_URL" -f "$f"
done

if [ -z "${TOKEN:-}" ]; then
  echo "missing TOKEN" >&2
  exit 1
fi`},
	{LangRust, `use std::collections::HashMap;

#[derive(Debug)]
struct Cache {
    items: HashMap<String, String>,
}

impl Cache {
    pub fn get(&self, key: &str) -> Option<&String> {
        self.items.get(key)
    }
}

fn main() {
    let mut c = Cache { items: HashMap::new() };
    println!("{:?}", c.get("x"));
}`},
	{LangCSharp, `using System;
using System.Threading.Tasks;

namespace Acme.Billing
{
    public class InvoiceService
    {
        public string Customer { get; set; }

        public async Task SendAsync()
        {
            Console.WriteLine("sending");
            await Task.Delay(10);
        }
    }
}`},
	{LangDotenv, `DATABASE_URL=postgres://app:pw@db.internal:5432/app
REDIS_URL=redis://cache.internal:6379/0
STRIPE_SECRET_KEY=sk_live_xxx
SENTRY_DSN=https://abc@o1.ingest.sentry.io/1
LOG_LEVEL=debug
FEATURE_FLAGS=checkout,search`},
}

func TestCodeSamples(t *testing.T) {
	for _, c := range codeSamples {
		t.Run(c.lang, func(t *testing.T) {
			prompt := "Can you review this and tell me what is wrong? I keep getting an error in production.\n\n" +
				c.code + "\n\nThanks a lot, it is quite urgent for the release tomorrow morning."
			got := findAll(t, "code.source", prompt)
			if len(got) == 0 {
				t.Fatalf("no code found in %s sample", c.lang)
			}
			covered := 0
			for _, f := range got {
				covered += len(f.value)
				if strings.Contains(f.value, "Can you review") || strings.Contains(f.value, "Thanks a lot") {
					t.Errorf("block includes the prose: %q", f.value)
				}
			}
			if covered < len(c.code)*8/10 {
				t.Errorf("blocks cover %d of %d bytes: %v", covered, len(c.code), got)
			}
			if l := GuessLanguage(c.code); l != c.lang {
				t.Errorf("GuessLanguage = %q, want %q", l, c.lang)
			}
		})
	}
}

func TestNotCode(t *testing.T) {
	for _, text := range []string{
		// Prose with line breaks.
		"Hi team,\n\nPlease find attached the Q3 report. Revenue grew 12% quarter over quarter, driven by EMEA.\nWe expect the trend to continue into Q4 if the pipeline holds.\nLet me know if you have questions.\n\nBest,\nAnna",
		// A Markdown list and headings.
		"# Onboarding\n\n## First week\n\n- Meet your buddy\n- Set up your laptop\n- Read the handbook\n- Join the #general channel\n- Book a 1:1 with your manager\n\n## Second week\n\n- Ship a small fix\n- Present at demo day",
		// CSV.
		"name,email,country,plan\nAlice,alice@acme.io,DE,pro\nBob,bob@globex.io,FR,free\nCarol,carol@initech.io,US,pro\nDan,dan@hooli.dev,UK,team\nEve,eve@acme.io,DE,free",
		// JSON data.
		"{\n  \"id\": 42,\n  \"name\": \"Widget\",\n  \"tags\": [\"a\", \"b\"],\n  \"price\": {\n    \"amount\": 19.99,\n    \"currency\": \"EUR\"\n  },\n  \"active\": true\n}",
		// Log lines.
		"2024-05-01T10:00:00Z INFO request handled path=/api/v1/orders status=200 duration=12ms\n2024-05-01T10:00:01Z INFO request handled path=/api/v1/orders status=200 duration=9ms\n2024-05-01T10:00:02Z WARN slow query table=orders duration=1200ms\n2024-05-01T10:00:03Z INFO request handled path=/health status=200 duration=1ms\n2024-05-01T10:00:04Z ERROR upstream timeout host=payments",
		// An e-mail with headers.
		"From: Alice <alice@acme.io>\nTo: Bob <bob@globex.io>\nSubject: Re: contract\nDate: Mon, 6 May 2024 10:00:00 +0200\n\nHi Bob, the signed contract is attached. Regards, Alice",
		// A short snippet is not a block.
		"Try `go test ./...` and then:\n\nx := 1\nfmt.Println(x)\n\nDoes that work?",
		// A table.
		"| Region | Q1 | Q2 |\n|---|---|---|\n| EMEA | 10 | 12 |\n| APAC | 8 | 9 |\n| AMER | 15 | 17 |\n| LATAM | 3 | 4 |",
	} {
		if got := findAll(t, "code.source", text); len(got) != 0 {
			t.Errorf("code found in %q: %v", text, got)
		}
	}
}

func TestFences(t *testing.T) {
	// A tagged fence is code from three lines on, whatever they contain.
	text := "Here:\n\n```python\nx = compute()\ny = x + 1\nprint(y)\n```\n\nand more text."
	got := findAll(t, "code.source", text)
	if len(got) != 1 || got[0].value != "x = compute()\ny = x + 1\nprint(y)" || got[0].conf != 1 {
		t.Errorf("fenced: %v", got)
	}
	if l := GuessLanguage("```python\nx = 1\n```"); l != LangPython {
		t.Errorf("fence tag language %q", l)
	}
	// An untagged fence of prose is not code; a "text" fence neither.
	for _, text := range []string{
		"```\nThis is a quote from the report.\nIt has several lines.\nNone of them code.\nReally none.\nAt all.\n```",
		"```text\nline one of output\nline two of output\nline three of output\n```",
	} {
		if got := findAll(t, "code.source", text); len(got) != 0 {
			t.Errorf("code found in %q: %v", text, got)
		}
	}
	// Unterminated fence.
	if got := findAll(t, "code.source", "```go\nfunc a() {}\nfunc b() {}\nfunc c() {}\n"); len(got) != 1 {
		t.Errorf("unterminated fence: %v", got)
	}
}

func TestGuessLanguageEmpty(t *testing.T) {
	for _, s := range []string{"", "hello world", "The quick brown fox jumps over the lazy dog."} {
		if l := GuessLanguage(s); l != "" {
			t.Errorf("GuessLanguage(%q) = %q", s, l)
		}
	}
}
