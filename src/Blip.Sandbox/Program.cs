Console.Error.WriteLine("blip-sandbox: not wired yet");
return 2;
